/* The host side of the mux fed what a hostile guest may write to its port.
 * The first two bytes steer the harness (read sizes, how much output the
 * "writer" drains, how many channels the host opened first); the rest is the
 * guest's byte stream. The callbacks act as the shim does (consume, answer,
 * echo, close) and check what the mux promises its owner; every frame the
 * mux queues for the guest must be well formed. */
#include "fuzz.h"
#include "proto/msg.h"
#include "proto/mux.h"

#include <errno.h>

static const char ours; /* c->user of a channel we opened or accepted */

struct fz_mux {
	uint32_t rng;
	unsigned opened, closed;
	/* guest-opened channel ids the mux has answered OPEN_OK for (ids are
	 * reused after a close, so this only ever lets a DATA frame through) */
	uint32_t ok_ids[64];
	size_t nok;
	bool ok_ids_full; /* more ids than recorded: the order check is off */
};

static bool answered_ok(const struct fz_mux *s, uint32_t id)
{
	for (size_t i = 0; i < s->nok; i++)
		if (s->ok_ids[i] == id)
			return true;
	return s->ok_ids_full;
}

static void record_ok(struct fz_mux *s, uint32_t id)
{
	if (answered_ok(s, id))
		return;
	if (s->nok < sizeof(s->ok_ids) / sizeof(s->ok_ids[0]))
		s->ok_ids[s->nok++] = id;
	else
		s->ok_ids_full = true;
}

static uint32_t next_rand(struct fz_mux *s)
{
	s->rng = s->rng * 1103515245u + 12345u;
	return s->rng >> 16;
}

static int on_open(struct bx_mux *m, struct bx_chan *c)
{
	FZ_CHECK(c->state == BX_CH_OPEN && (c->id & 1) == 0);
	/* queued before the answer: the mux must put OPEN_OK first, or drop it on refusal */
	bx_mux_send(m, c, "early", 5);
	if (c->port % 2)
		return ECONNREFUSED;
	c->user = (void *)&ours;
	((struct fz_mux *)m->user)->opened++;
	return 0;
}

static void on_open_result(struct bx_mux *m, struct bx_chan *c, int errnum)
{
	FZ_CHECK(c->user == &ours && (c->id & 1) == 1);
	FZ_CHECK(errnum >= 0 && errnum <= 4095);
	if (errnum == 0)
		FZ_CHECK(c->state == BX_CH_OPEN);
	else
		((struct fz_mux *)m->user)->closed++; /* freed after this call, no on_close */
}

static void on_data(struct bx_mux *m, struct bx_chan *c, const uint8_t *buf, size_t len)
{
	FZ_CHECK(c->user == &ours && c->state == BX_CH_OPEN && !c->got_eof);
	FZ_CHECK(len > 0 && len <= BX_FRAME_MAX_PAYLOAD && c->recv_window <= BX_MUX_WINDOW);
	fz_touch(buf, len);
	struct fz_mux *s = m->user;
	if (next_rand(s) % 2)
		bx_mux_consumed(m, c, len);
	size_t sent = bx_mux_send(m, c, buf, len);
	FZ_CHECK(sent <= len);
	if (buf[0] == 'E')
		bx_mux_send_eof(m, c);
	if (buf[0] == 'C')
		bx_mux_close(m, c);
}

static void on_eof(struct bx_mux *m, struct bx_chan *c)
{
	FZ_CHECK(c->user == &ours && c->got_eof);
	bx_mux_send_eof(m, c);
}

static void on_close(struct bx_mux *m, struct bx_chan *c)
{
	FZ_CHECK(c->user == &ours);
	((struct fz_mux *)m->user)->closed++;
	FZ_CHECK(bx_mux_send(m, c, "late", 4) == 0); /* refused: the channel is going */
}

static void on_credit(struct bx_mux *m, struct bx_chan *c)
{
	FZ_CHECK(c->user == &ours && c->send_credit <= BX_MUX_WINDOW);
}

static const struct bx_mux_ops ops = {
	.on_open = on_open,
	.on_open_result = on_open_result,
	.on_data = on_data,
	.on_eof = on_eof,
	.on_close = on_close,
	.on_credit = on_credit,
};

/* Every queued byte is a whole, valid frame; the host only opens odd ids;
 * on a channel the guest opened, no DATA goes out before its OPEN_OK (what
 * on_open sends early is queued behind it, or dropped with a refusal). Every
 * frame is seen here before drain() consumes it, so the order is the wire's. */
static void check_output(struct bx_mux *m, struct fz_mux *s)
{
	size_t len;
	const uint8_t *out = bx_mux_out_peek(m, &len);
	FZ_CHECK(len == bx_mux_out_pending(m));
	size_t off = 0;
	while (off < len) {
		struct bx_frame f;
		struct bx_err err = {0};
		int r = bx_frame_decode(out + off, len - off, &f, &err);
		FZ_CHECK(r > 0);
		FZ_CHECK(f.type != BX_F_OPEN || (f.chan & 1) == 1);
		FZ_CHECK(f.chan != 0);
		if (f.type == BX_F_OPEN_OK)
			record_ok(s, f.chan);
		if (f.type == BX_F_DATA && (f.chan & 1) == 0)
			FZ_CHECK(answered_ok(s, f.chan));
		off += (size_t)r;
	}
}

static void drain(struct bx_mux *m, struct fz_mux *s)
{
	check_output(m, s);
	switch (next_rand(s) % 4) {
	case 0: /* a stalled writer: keep everything */
		break;
	case 1: { /* one frame written */
		size_t len;
		const uint8_t *out = bx_mux_out_peek(m, &len);
		if (len)
			bx_mux_out_consume(m, BX_FRAME_HDR_SIZE + bx_get_u32(out + 8));
		break;
	}
	default:
		bx_mux_out_consume(m, bx_mux_out_pending(m));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct fz_mux s = {.rng = data[0]};
	unsigned host_opens = data[1] % 4;
	data += 2;
	size -= 2;

	struct bx_mux m;
	bx_mux_init(&m, true, &ops, &s);
	static const uint32_t ports[] = {BX_PORT_EXEC, BX_PORT_PTY, BX_PORT_MAIN};
	for (unsigned i = 0; i < host_opens; i++) {
		struct bx_err err = {0};
		struct bx_chan *c = bx_mux_open(&m, ports[i % 3], &err);
		FZ_CHECK(c && c->id == 2 * i + 1);
		c->user = (void *)&ours;
		bx_mux_send(&m, c, "request", 7);
	}

	int rc = 0;
	while (size > 0) {
		size_t chunk = 1 + next_rand(&s) % 64;
		if (chunk > size)
			chunk = size;
		struct bx_err err = {0};
		rc = bx_mux_input(&m, data, chunk, &err);
		if (rc < 0) {
			FZ_CHECK_ERR(err);
			FZ_CHECK(m.dead);
			/* a dead link stays dead */
			struct bx_err again = {0};
			FZ_CHECK(bx_mux_input(&m, "x", 1, &again) < 0);
			break;
		}
		/* whatever the peer sends, what we queue for it stays bounded */
		FZ_CHECK(bx_mux_out_pending(&m) <= BX_MUX_OUT_LIMIT);
		data += chunk;
		size -= chunk;
		drain(&m, &s);
	}
	if (rc == 0)
		check_output(&m, &s);
	FZ_CHECK(s.closed <= s.opened + host_opens); /* each channel ends once */
	bx_mux_free(&m);
	return 0;
}
