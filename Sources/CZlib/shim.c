#include "CZlib.h"
#include <pthread.h>
#include <stdlib.h>

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

/* One compressor per thread and level (libdeflate levels 0-12), freed by the thread-exit destructor. */
static pthread_key_t compressorKey;
static pthread_once_t compressorKeyOnce = PTHREAD_ONCE_INIT;

static void freeCompressors(void *p) {
    struct libdeflate_compressor **table = p;
    for (int i = 0; i < 13; i++) {
        if (table[i] != NULL) libdeflate_free_compressor(table[i]);
    }
    free(table);
}

static void makeCompressorKey(void) { pthread_key_create(&compressorKey, freeCompressors); }

size_t CZlib_gzipWholeCached(const void *in, size_t inLen, void *out, size_t outCap, int level) {
    if (level < 0 || level > 12) return 0;
    pthread_once(&compressorKeyOnce, makeCompressorKey);
    struct libdeflate_compressor **table = pthread_getspecific(compressorKey);
    if (table == NULL) {
        table = calloc(13, sizeof *table);
        if (table == NULL) return 0;
        pthread_setspecific(compressorKey, table);
    }
    if (table[level] == NULL) table[level] = libdeflate_alloc_compressor(level);
    if (table[level] == NULL) return 0;
    return libdeflate_gzip_compress(table[level], in, inLen, out, outCap);
}
