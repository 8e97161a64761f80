/* The growable byte queue (bytes.h). */
#include "bytes.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

uint8_t *bx_bytes_reserve(struct bx_bytes *q, size_t n, struct bx_err *err)
{
	if (q->off && q->off == q->len)
		q->off = q->len = 0;
	if (q->cap - q->len >= n)
		return q->buf + q->len;
	if (q->off) { /* compact before growing */
		memmove(q->buf, q->buf + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
		if (q->cap - q->len >= n)
			return q->buf + q->len;
	}
	if (n > SIZE_MAX / 4 - q->len) {
		bx_fail(err, ENOMEM, "byte queue too large");
		return NULL;
	}
	size_t cap = q->cap ? q->cap : 4096;
	while (cap - q->len < n)
		cap *= 2;
	uint8_t *nb = realloc(q->buf, cap);
	if (!nb) {
		bx_fail(err, ENOMEM, "cannot grow a byte queue to %zu bytes", cap);
		return NULL;
	}
	q->buf = nb;
	q->cap = cap;
	return q->buf + q->len;
}

int bx_bytes_push(struct bx_bytes *q, const void *data, size_t len, struct bx_err *err)
{
	if (!len)
		return 0;
	uint8_t *p = bx_bytes_reserve(q, len, err);
	if (!p)
		return -1;
	memcpy(p, data, len);
	bx_bytes_commit(q, len);
	return 0;
}

void bx_bytes_pop(struct bx_bytes *q, size_t n)
{
	size_t queued = q->len - q->off;
	q->off += n < queued ? n : queued;
	if (q->off == q->len)
		q->off = q->len = 0;
}

void bx_bytes_free(struct bx_bytes *q)
{
	free(q->buf);
	q->buf = NULL;
	q->off = q->len = q->cap = 0;
}

char *bx_bytes_take_str(struct bx_bytes *q, struct bx_err *err)
{
	if (bx_bytes_push(q, "", 1, err) < 0)
		return NULL;
	if (q->off)
		memmove(q->buf, q->buf + q->off, q->len - q->off);
	char *s = (char *)q->buf;
	*q = (struct bx_bytes){0};
	return s;
}
