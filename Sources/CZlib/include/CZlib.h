#ifndef CZLIB_H
#define CZLIB_H
#include <stddef.h>
#include <zlib.h>
#include <libdeflate.h>

/// Starts a gzip (RFC 1952) deflate stream: deflateInit2 is a macro, so Swift needs this wrapper.
static inline int CZlib_deflateInitGzip(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/// Starts an inflate stream that reads gzip (and zlib) headers automatically.
static inline int CZlib_inflateInitAuto(z_stream *s) {
    return inflateInit2(s, 15 + 32);
}

/// Compresses a whole buffer into one gzip member with libdeflate. Returns the compressed size, 0 if `out` is too small.
size_t CZlib_gzipWhole(const void *in, size_t inLen, void *out, size_t outCap, int level);

/// Like `CZlib_gzipWhole`, with a compressor kept per thread and level instead of one allocated
/// per call (which costs ~20% at level 1 on half-megabyte `_bulk` bodies). Freed at thread exit.
size_t CZlib_gzipWholeCached(const void *in, size_t inLen, void *out, size_t outCap, int level);

/// The largest gzip output that `CZlib_gzipWhole` can produce for `inLen` bytes.
size_t CZlib_gzipBound(size_t inLen);

#endif
