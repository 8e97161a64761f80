/* Session messages carried inside one mux channel (a byte stream) (msg.h). */
#include "msg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* A message handed out by bx_msgbuf_next() stays at the front of the buffer
 * (its payload pointer must remain valid) and is dropped on the next
 * append/next/peek: `handed` holds its size until then. (A marker in the
 * message itself would be ambiguous: a peer could send the marker.) */

void bx_msgbuf_init(struct bx_msgbuf *b)
{
	*b = (struct bx_msgbuf){0};
}

void bx_msgbuf_free(struct bx_msgbuf *b)
{
	bx_bytes_free(&b->q);
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
	bx_bytes_pop(&b->q, b->handed);
	b->handed = 0;
}

/* Validate the header at the front as soon as it is complete, so a bogus
 * length is refused before we buffer towards it. */
static int check_hdr(struct bx_msgbuf *b, struct bx_err *err)
{
	if (bx_bytes_size(&b->q) < BX_MSG_HDR_SIZE)
		return 0;
	const uint8_t *h = bx_bytes_data(&b->q);
	uint8_t kind = h[0];
	uint32_t len = bx_get_u32(h + 1);
	if (kind == 0 || kind > BX_M_KIND_MAX)
		return bx_fail(err, 0, "protocol error: unknown message kind %u", kind);
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
	if (bx_bytes_push(&b->q, data, len, err) < 0)
		return -1;
	return check_hdr(b, err);
}

/* The whole message at the front: 1, 0 if more bytes are needed, -1 if malformed. */
static int front(struct bx_msgbuf *b, struct bx_err *err)
{
	drop_consumed(b);
	size_t have = bx_bytes_size(&b->q);
	if (have < BX_MSG_HDR_SIZE)
		return 0;
	if (check_hdr(b, err) < 0)
		return -1;
	return have - BX_MSG_HDR_SIZE >= bx_get_u32(bx_bytes_data(&b->q) + 1);
}

int bx_msgbuf_next(struct bx_msgbuf *b, struct bx_msg *m, struct bx_err *err)
{
	int r = front(b, err);
	if (r <= 0)
		return r;
	uint8_t *h = bx_bytes_data(&b->q);
	m->kind = h[0];
	m->len = bx_get_u32(h + 1);
	m->payload = h + BX_MSG_HDR_SIZE;
	b->handed = BX_MSG_HDR_SIZE + m->len;
	return 1;
}

uint8_t bx_msgbuf_peek_kind(struct bx_msgbuf *b)
{
	return front(b, NULL) == 1 ? bx_bytes_data(&b->q)[0] : 0;
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

int bx_claim_encode(const char *netconf, size_t netconf_len, const uint8_t *spec, size_t spec_len, uint8_t **out,
		    size_t *out_len, struct bx_err *err)
{
	size_t total = 4 + netconf_len + spec_len;
	if (netconf_len > BX_MSG_MAX || spec_len > BX_MSG_MAX || total > BX_MSG_MAX)
		return bx_fail(err, 0, "the box's spec is too large for a claim (%zu bytes)", total);
	uint8_t *b = malloc(total);
	if (!b)
		return bx_fail(err, ENOMEM, "out of memory");
	bx_put_u32(b, (uint32_t)netconf_len);
	memcpy(b + 4, netconf, netconf_len);
	memcpy(b + 4 + netconf_len, spec, spec_len);
	*out = b;
	*out_len = total;
	return 0;
}

int bx_claim_split(const uint8_t *p, size_t len, const char **netconf, size_t *netconf_len, const uint8_t **spec,
		   size_t *spec_len, struct bx_err *err)
{
	if (len < 4)
		return bx_fail(err, 0, "claim: %zu bytes, not even a length", len);
	uint32_t n = bx_get_u32(p);
	if (n > len - 4)
		return bx_fail(err, 0, "claim: netconf of %u bytes in a message of %zu", n, len);
	*netconf = (const char *)p + 4;
	*netconf_len = n;
	*spec = p + 4 + n;
	*spec_len = len - 4 - n;
	return 0;
}
