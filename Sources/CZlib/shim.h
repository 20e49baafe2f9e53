#include <zlib.h>

/// deflateInit2 is a macro in zlib.h; Swift can't call macros.
static inline int fieldsync_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
/// inflateInit2 likewise (tests read gzip answers back).
static inline int fieldsync_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 16);
}
