/* Session messages carried inside one mux channel (a byte stream) (msg.h). */
#include "msg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* A message handed out by bx_msgbuf_next() stays at the front of the buffer
 * (its payload pointer must remain valid) and is dropped on the next
 * append/pop. To remember that without extra state in struct bx_msgbuf, its
 * kind byte is overwritten with 0, which is never a valid kind on the wire. */
#define CONSUMED_KIND 0

void bx_msgbuf_init(struct bx_msgbuf *b)
{
	b->buf = NULL;
	b->len = 0;
	b->cap = 0;
}

void bx_msgbuf_free(struct bx_msgbuf *b)
{
	free(b->buf);
	bx_msgbuf_init(b);
}

void bx_msg_encode_hdr(uint8_t out[BX_MSG_HDR_SIZE], uint8_t kind, uint32_t len)
{
	out[0] = kind;
	bx_put_u32(out + 1, len);
}

int bx_msg_encode(uint8_t *out, size_t cap, uint8_t kind, const void *payload, size_t len,
		  struct bx_err *err)
{
	if (len > BX_MSG_MAX)
		return bx_fail(err, EMSGSIZE, "message of %zu bytes exceeds the %u-byte limit", len, BX_MSG_MAX);
	if (cap < BX_MSG_HDR_SIZE + len)
		return bx_fail(err, ENOBUFS, "message of %zu bytes does not fit a %zu-byte buffer", len, cap);
	bx_msg_encode_hdr(out, kind, (uint32_t)len);
	if (len)
		memcpy(out + BX_MSG_HDR_SIZE, payload, len);
	return (int)(BX_MSG_HDR_SIZE + len);
}

/* Drop the message returned by the previous bx_msgbuf_next(), if any. */
static void drop_consumed(struct bx_msgbuf *b)
{
	if (b->len < BX_MSG_HDR_SIZE || b->buf[0] != CONSUMED_KIND)
		return;
	size_t n = BX_MSG_HDR_SIZE + bx_get_u32(b->buf + 1);
	memmove(b->buf, b->buf + n, b->len - n);
	b->len -= n;
}

/* Validate the header at the front as soon as it is complete, so a bogus
 * length is refused before we buffer towards it. */
static int check_hdr(struct bx_msgbuf *b, struct bx_err *err)
{
	if (b->len < BX_MSG_HDR_SIZE)
		return 0;
	uint8_t kind = b->buf[0];
	uint32_t len = bx_get_u32(b->buf + 1);
	if (kind == 0 || kind > BX_M_KIND_MAX) {
		/* a wire kind 0 would read as "consumed" next time: keep it invalid */
		b->buf[0] = 0xff;
		return bx_fail(err, 0, "protocol error: unknown message kind %u", kind);
	}
	if (len > BX_MSG_MAX)
		return bx_fail(err, 0, "protocol error: message of %u bytes exceeds the %u-byte limit", len,
			       BX_MSG_MAX);
	return 0;
}

int bx_msgbuf_append(struct bx_msgbuf *b, const void *data, size_t len, struct bx_err *err)
{
	drop_consumed(b);
	if (check_hdr(b, err) < 0)
		return -1;
	if (len == 0)
		return 0;
	if (len > SIZE_MAX / 2 - b->len)
		return bx_fail(err, ENOMEM, "message buffer too large");
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *nb = realloc(b->buf, cap);
		if (!nb)
			return bx_fail(err, ENOMEM, "cannot grow message buffer");
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	return check_hdr(b, err);
}

int bx_msgbuf_next(struct bx_msgbuf *b, struct bx_msg *m, struct bx_err *err)
{
	drop_consumed(b);
	if (b->len < BX_MSG_HDR_SIZE)
		return 0;
	if (check_hdr(b, err) < 0)
		return -1;
	uint32_t len = bx_get_u32(b->buf + 1);
	if (b->len - BX_MSG_HDR_SIZE < len)
		return 0;
	m->kind = b->buf[0];
	m->len = len;
	m->payload = b->buf + BX_MSG_HDR_SIZE;
	b->buf[0] = CONSUMED_KIND;
	return 1;
}

uint8_t bx_msgbuf_peek_kind(struct bx_msgbuf *b)
{
	drop_consumed(b);
	if (b->len < BX_MSG_HDR_SIZE || check_hdr(b, NULL) < 0 || b->len - BX_MSG_HDR_SIZE < bx_get_u32(b->buf + 1))
		return 0;
	return b->buf[0];
}

void bx_msg_time_encode(uint8_t out[BX_MSG_TIME_SIZE], int64_t ns)
{
	uint64_t v = (uint64_t)ns;
	bx_put_u32(out, (uint32_t)v);
	bx_put_u32(out + 4, (uint32_t)(v >> 32));
}

int bx_msg_time_decode(const uint8_t *p, size_t len, int64_t *ns, struct bx_err *err)
{
	if (len != BX_MSG_TIME_SIZE)
		return bx_fail(err, EINVAL, "TIME message of %zu bytes (want %d)", len, BX_MSG_TIME_SIZE);
	int64_t v = (int64_t)((uint64_t)bx_get_u32(p) | (uint64_t)bx_get_u32(p + 4) << 32);
	if (v <= 0)
		return bx_fail(err, EINVAL, "TIME message with a time before the epoch (%lld ns)", (long long)v);
	*ns = v;
	return 0;
}
