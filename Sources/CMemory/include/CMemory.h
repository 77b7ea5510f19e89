#ifndef CMEMORY_H
#define CMEMORY_H

/// Asks the CPU to start loading the cache line at `p` (a hint: never faults, even on a bad
/// address). Swift has no prefetch of its own; `evaluate` uses it to overlap the cache misses of
/// its join's index (a table far larger than the caches) instead of meeting them one by one.
static inline void CMemory_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

#endif
