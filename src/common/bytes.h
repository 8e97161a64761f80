/* A growable byte queue: bytes are appended at the end and taken from the
 * front. The one buffering primitive of boxvm's host processes and guest
 * agent (the mux's output, message input, the shim's and the relay's
 * queues); each user bounds its size (mux credit, one message at a time). */
#ifndef BOXVM_COMMON_BYTES_H
#define BOXVM_COMMON_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct bx_bytes {
	uint8_t *buf;
	size_t off, len, cap; /* queued: buf[off..len) */
};

/* Room for n more bytes after the queued ones (compacting first, growing
 * by doubling from 4 KiB): a pointer to them, or NULL with err filled
 * (ENOMEM). The caller writes them and then adds n with bx_bytes_commit. */
uint8_t *bx_bytes_reserve(struct bx_bytes *q, size_t n, struct bx_err *err);
static inline void bx_bytes_commit(struct bx_bytes *q, size_t n) { q->len += n; }
/* Append len bytes: 0, or -1 with err filled (ENOMEM). */
int bx_bytes_push(struct bx_bytes *q, const void *data, size_t len, struct bx_err *err);
/* Take n bytes (at most what is queued) from the front. */
void bx_bytes_pop(struct bx_bytes *q, size_t n);
static inline size_t bx_bytes_size(const struct bx_bytes *q) { return q->len - q->off; }
/* The queued bytes (NULL when there are none and nothing was ever queued). */
static inline uint8_t *bx_bytes_data(const struct bx_bytes *q) { return q->buf ? q->buf + q->off : NULL; }
void bx_bytes_free(struct bx_bytes *q);
/* Text built in a queue: NUL-terminate what is queued and hand it over (the
 * caller frees it; the queue is left empty), or NULL with err filled. */
char *bx_bytes_take_str(struct bx_bytes *q, struct bx_err *err);

#endif
