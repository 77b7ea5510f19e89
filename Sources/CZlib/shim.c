#include "CZlib.h"

size_t CZlib_gzipWhole(const void *in, size_t inLen, void *out, size_t outCap, int level) {
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    if (c == NULL) return 0;
    size_t n = libdeflate_gzip_compress(c, in, inLen, out, outCap);
    libdeflate_free_compressor(c);
    return n;
}

size_t CZlib_gzipBound(size_t inLen) {
    return libdeflate_gzip_compress_bound(NULL, inLen);
}
