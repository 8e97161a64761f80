/* Session messages inside a channel, as the host's exec/main clients parse
 * what the guest sends: appended in pieces (the first byte picks the piece
 * sizes), popped as they complete, and the payloads the host decodes further
 * (STATS_REPLY, REQ, CLAIM) handed to their decoders. The shim's watcher
 * (proto/msgscan.h) is fed the same pieces and must see the same messages. */
#include "fuzz.h"
#include "proto/msg.h"
#include "proto/msgscan.h"
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
	} else if (m->kind == BX_M_CLAIM) { /* the agent splits a pool VM's claim, then decodes its spec */
		const char *net;
		const uint8_t *enc;
		size_t net_len, enc_len;
		if (bx_claim_split(m->payload, m->len, &net, &net_len, &enc, &enc_len, &err) < 0) {
			FZ_CHECK_ERR(err);
		} else {
			FZ_CHECK(net_len + enc_len + 4 == m->len);
			fz_touch((const uint8_t *)net, net_len);
			struct bx_spec spec;
			bx_spec_init(&spec);
			if (bx_spec_decode(&spec, enc, enc_len, &err) < 0)
				FZ_CHECK_ERR(err);
			bx_spec_free(&spec);
		}
	}
}

/* what the watcher saw: kind, length and a hash of each payload */
struct scanned {
	struct seen {
		uint8_t kind;
		uint32_t len;
		uint64_t hash;
	} *v;
	size_t n, cap, next;
	bool invalid; /* a kind the buffer refuses (or, for 0, drops): the two part ways */
};

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static void on_scan(void *ctx, uint8_t kind, const uint8_t *payload, uint32_t len)
{
	struct scanned *s = ctx;
	if (kind == 0 || kind > BX_M_KIND_MAX)
		s->invalid = true;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = (struct seen){kind, len, fnv(payload, len)};
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
	struct bx_msgscan scan;
	struct scanned sc = {0};
	bx_msgscan_init(&scan, 0xffffffffu, BX_MSG_MAX);
	bool failed = false;
	while (size > 0 && !failed) {
		size_t n = piece < size ? piece : size;
		struct bx_err err = {0};
		bx_msgscan_feed(&scan, data, n, on_scan, &sc);
		if (bx_msgbuf_append(&b, data, n, &err) < 0) {
			FZ_CHECK_ERR(err);
			failed = true;
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
			FZ_CHECK(sc.invalid || (sc.next < sc.n && sc.v[sc.next].kind == m.kind && sc.v[sc.next].len == m.len &&
						sc.v[sc.next].hash == fnv(m.payload, m.len)));
			sc.next++;
		}
		/* never more buffered than one whole message plus the piece just added */
		FZ_CHECK(bx_bytes_size(&b.q) <= BX_MSG_HDR_SIZE + BX_MSG_MAX + n);
	}
	/* every whole message the buffer handed out, the watcher saw, and no other */
	FZ_CHECK(failed || sc.invalid || sc.next == sc.n);
	bx_msgbuf_free(&b);
	bx_msgscan_free(&scan);
	free(sc.v);
	return 0;
}
