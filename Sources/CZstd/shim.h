#ifndef NEWSD_CZSTD_SHIM_H
#define NEWSD_CZSTD_SHIM_H

#include <zstd.h>
#include <zdict.h>

/* ZSTD_CONTENTSIZE_UNKNOWN and _ERROR are macros of unsigned long long casts, which Swift does not import. */
static inline unsigned long long newsd_zstd_content_size_unknown(void) { return ZSTD_CONTENTSIZE_UNKNOWN; }
static inline unsigned long long newsd_zstd_content_size_error(void) { return ZSTD_CONTENTSIZE_ERROR; }

#endif
