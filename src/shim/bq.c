/* A growable byte queue: the shim's only buffering primitive. Its size is
 * bounded by the callers (mux credit, one message at a time). */
#include <stdlib.h>
#include <string.h>

#include "shim.h"

int bq_push(struct bq *q, const void *data, size_t len)
{
	if (q->off && q->off == q->len)
		q->off = q->len = 0;
	if (q->len + len > q->cap) {
		if (q->off) { /* compact before growing */
			memmove(q->buf, q->buf + q->off, q->len - q->off);
			q->len -= q->off;
			q->off = 0;
		}
		size_t cap = q->cap ? q->cap : 4096;
		while (cap < q->len + len)
			cap *= 2;
		if (cap != q->cap) {
			uint8_t *nb = realloc(q->buf, cap);
			if (!nb)
				return -1;
			q->buf = nb;
			q->cap = cap;
		}
	}
	memcpy(q->buf + q->len, data, len);
	q->len += len;
	return 0;
}

void bq_pop(struct bq *q, size_t n)
{
	q->off += n;
	if (q->off >= q->len)
		q->off = q->len = 0;
}

void bq_free(struct bq *q)
{
	free(q->buf);
	q->buf = NULL;
	q->off = q->len = q->cap = 0;
}
