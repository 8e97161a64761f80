/* Session messages inside a channel, as the host's exec/main clients parse
 * what the guest sends: appended in pieces (the first byte picks the piece
 * sizes), popped as they complete, and the payloads the host decodes further
 * (STATS_REPLY, REQ) handed to their decoders. */
#include "fuzz.h"
#include "proto/msg.h"
#include "proto/spec.h"
#include "proto/stats.h"

static void check_msg(const struct bx_msg *m)
{
	FZ_CHECK(m->kind >= 1 && m->kind <= BX_M_KIND_MAX && m->len <= BX_MSG_MAX);
	fz_touch(m->payload, m->len);
	/* the length encodes back to the bytes it came from (the kind byte is
	 * overwritten by the buffer's "consumed" mark, see msg.c) */
	uint8_t hdr[BX_MSG_HDR_SIZE];
	bx_msg_encode_hdr(hdr, m->kind, m->len);
	FZ_CHECK(memcmp(hdr + 1, m->payload - BX_MSG_HDR_SIZE + 1, BX_MSG_HDR_SIZE - 1) == 0);

	struct bx_err err = {0};
	if (m->kind == BX_M_STATS_REPLY) {
		struct bx_guest_stats st;
		if (bx_stats_decode(m->payload, m->len, &st, &err) < 0)
			FZ_CHECK_ERR(err);
	} else if (m->kind == BX_M_REQ) {
		struct bx_spec spec;
		bx_spec_init(&spec);
		if (bx_spec_decode(&spec, m->payload, m->len, &err) < 0)
			FZ_CHECK_ERR(err);
		bx_spec_free(&spec);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t piece = 1 + data[0] % 97;
	data++;
	size--;
	struct bx_msgbuf b;
	bx_msgbuf_init(&b);
	bool failed = false;
	while (size > 0 && !failed) {
		size_t n = piece < size ? piece : size;
		struct bx_err err = {0};
		if (bx_msgbuf_append(&b, data, n, &err) < 0) {
			FZ_CHECK_ERR(err);
			break;
		}
		data += n;
		size -= n;
		for (;;) {
			struct bx_msg m;
			int r = bx_msgbuf_next(&b, &m, &err);
			if (r < 0) {
				FZ_CHECK_ERR(err);
				failed = true;
				break;
			}
			if (r == 0)
				break;
			check_msg(&m);
		}
		/* never more buffered than one whole message plus the piece just added */
		FZ_CHECK(bx_bytes_size(&b.q) <= BX_MSG_HDR_SIZE + BX_MSG_MAX + n);
	}
	bx_msgbuf_free(&b);
	return 0;
}
