// CMemory is header-only (static inline functions); SwiftPM wants a source file per C target.
#include "CMemory.h"
