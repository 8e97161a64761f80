#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/mux.h"

/* One end of a back-to-back pair: records every callback. */
struct side {
	struct bx_mux m;
	int refuse;             /* errno on_open returns */
	const char *greeting;   /* sent from inside on_open when set */
	bool auto_consume;
	int opens, results, last_result, eofs, closes, credits;
	uint32_t last_port;
	struct bx_chan *accepted;
	uint8_t *data;          /* everything received, in order */
	size_t data_len;
	uint32_t data_chan;
};

struct pair {
	struct side host, guest;
};

static int cb_open(struct bx_mux *m, struct bx_chan *c)
{
	struct side *s = m->user;
	s->opens++;
	s->last_port = c->port;
	if (s->greeting)
		bx_mux_send(m, c, s->greeting, strlen(s->greeting));
	if (s->refuse)
		return s->refuse;
	s->accepted = c;
	return 0;
}

static void cb_result(struct bx_mux *m, struct bx_chan *c, int errnum)
{
	struct side *s = m->user;
	s->results++;
	s->last_result = errnum;
}

static void cb_data(struct bx_mux *m, struct bx_chan *c, const uint8_t *buf, size_t len)
{
	struct side *s = m->user;
	s->data = realloc(s->data, s->data_len + len);
	assert_non_null(s->data);
	memcpy(s->data + s->data_len, buf, len);
	s->data_len += len;
	s->data_chan = c->id;
	if (s->auto_consume)
		bx_mux_consumed(m, c, len);
}

static void cb_eof(struct bx_mux *m, struct bx_chan *c)
{
	((struct side *)m->user)->eofs++;
}

static void cb_close(struct bx_mux *m, struct bx_chan *c)
{
	struct side *s = m->user;
	s->closes++;
	if (s->accepted == c)
		s->accepted = NULL;
}

static void cb_credit(struct bx_mux *m, struct bx_chan *c)
{
	((struct side *)m->user)->credits++;
}

static const struct bx_mux_ops ops = {
	.on_open = cb_open,
	.on_open_result = cb_result,
	.on_data = cb_data,
	.on_eof = cb_eof,
	.on_close = cb_close,
	.on_credit = cb_credit,
};

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	bx_mux_init(&p->host.m, true, &ops, &p->host);
	bx_mux_init(&p->guest.m, false, &ops, &p->guest);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;
	bx_mux_free(&p->host.m);
	bx_mux_free(&p->guest.m);
	free(p->host.data);
	free(p->guest.data);
	free(p);
	return 0;
}

/* Move everything `from` has queued into `to`, `step` bytes per input call
 * (0: all at once). Returns bx_mux_input's result. */
static int xfer(struct bx_mux *from, struct bx_mux *to, size_t step)
{
	struct bx_err err;
	size_t len;
	const uint8_t *out = bx_mux_out_peek(from, &len);
	if (!len)
		return 0;
	/* copy: callbacks in `to` may queue into `from`? no, but keep it simple and safe */
	uint8_t *copy = malloc(len);
	memcpy(copy, out, len);
	bx_mux_out_consume(from, len);
	int r = 0;
	for (size_t off = 0; off < len && r == 0;) {
		size_t n = step && step < len - off ? step : len - off;
		r = bx_mux_input(to, copy + off, n, &err);
		off += n;
	}
	free(copy);
	return r;
}

static void pump_step(struct pair *p, size_t step)
{
	while (bx_mux_out_pending(&p->host.m) || bx_mux_out_pending(&p->guest.m)) {
		assert_int_equal(xfer(&p->host.m, &p->guest.m, step), 0);
		assert_int_equal(xfer(&p->guest.m, &p->host.m, step), 0);
	}
}

static void pump(struct pair *p)
{
	pump_step(p, 0);
}

static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i + seed) * 7 % 251);
}

static struct bx_chan *open_chan(struct pair *p, uint32_t port)
{
	struct bx_err err;
	struct bx_chan *c = bx_mux_open(&p->host.m, port, &err);
	assert_non_null(c);
	return c;
}

static size_t count_active(struct bx_mux *m)
{
	size_t n = 0;
	for (size_t i = 0; i < BX_MUX_MAX_CHANNELS; i++)
		n += m->chans[i].state != BX_CH_FREE;
	return n;
}

/* ---- tests ---- */

static void test_open_accept(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	assert_int_equal(c->id % 2, 1); /* host ids are odd */
	assert_int_equal(c->state, BX_CH_OPENING);
	pump(p);
	assert_int_equal(p->guest.opens, 1);
	assert_int_equal(p->guest.last_port, 4089);
	assert_non_null(p->guest.accepted);
	assert_int_equal(p->guest.accepted->id, c->id);
	assert_int_equal(p->host.results, 1);
	assert_int_equal(p->host.last_result, 0);
	assert_int_equal(c->state, BX_CH_OPEN);

	/* guest-initiated channels get even ids */
	struct bx_err err;
	struct bx_chan *g = bx_mux_open(&p->guest.m, 7, &err);
	assert_non_null(g);
	assert_int_equal(g->id % 2, 0);
	assert_true(g->id != 0);
	pump(p);
	assert_int_equal(p->host.opens, 1);
	assert_int_equal(g->state, BX_CH_OPEN);
}

static void test_open_refused(void **state)
{
	struct pair *p = *state;
	p->guest.refuse = ECONNREFUSED;
	struct bx_chan *c = open_chan(p, 1234);
	uint32_t id = c->id;
	/* the opener may send right away; the refusing side drops it */
	assert_int_equal(bx_mux_send(&p->host.m, c, "early", 5), 5);
	bx_mux_send_eof(&p->host.m, c);
	pump(p);
	assert_int_equal(p->host.results, 1);
	assert_int_equal(p->host.last_result, ECONNREFUSED);
	assert_int_equal(p->guest.data_len, 0);
	assert_int_equal(p->guest.eofs, 0);
	assert_int_equal(p->guest.closes, 0);
	/* both sides released the id */
	assert_null(bx_mux_chan(&p->host.m, id));
	assert_null(bx_mux_chan(&p->guest.m, id));
	assert_int_equal(count_active(&p->host.m), 0);
	assert_int_equal(count_active(&p->guest.m), 0);
	assert_false(p->host.m.dead);
	assert_false(p->guest.m.dead);
}

static void test_no_service_refuses(void **state)
{
	/* a mux without on_open refuses everything with ECONNREFUSED */
	struct pair *p = *state;
	static const struct bx_mux_ops no_open = { .on_open_result = cb_result };
	p->guest.m.ops = &no_open;
	open_chan(p, 1);
	pump(p);
	assert_int_equal(p->host.last_result, ECONNREFUSED);
}

static void test_refuse_drops_data_queued_in_on_open(void **state)
{
	struct pair *p = *state;
	p->guest.refuse = EPERM;
	p->guest.greeting = "should not be seen";
	open_chan(p, 1);
	pump(p);
	assert_int_equal(p->host.last_result, EPERM);
	assert_int_equal(p->host.data_len, 0);
	assert_false(p->host.m.dead);
}

static void test_send_in_on_open(void **state)
{
	/* data queued by on_open must reach the opener after OPEN_OK */
	struct pair *p = *state;
	p->guest.greeting = "welcome";
	open_chan(p, 4091);
	pump(p);
	assert_int_equal(p->host.last_result, 0);
	assert_int_equal(p->host.data_len, 7);
	assert_memory_equal(p->host.data, "welcome", 7);
}

static void test_data_both_ways(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	assert_int_equal(bx_mux_send(&p->host.m, c, "ping", 4), 4); /* before the answer */
	pump(p);
	assert_int_equal(p->guest.data_len, 4);
	assert_memory_equal(p->guest.data, "ping", 4);
	assert_int_equal(p->guest.data_chan, c->id);
	assert_int_equal(bx_mux_send(&p->guest.m, p->guest.accepted, "pong!", 5), 5);
	pump(p);
	assert_int_equal(p->host.data_len, 5);
	assert_memory_equal(p->host.data, "pong!", 5);

	/* a large transfer is split into frames of at most BX_FRAME_MAX_PAYLOAD */
	size_t big = 100000;
	uint8_t *buf = malloc(big);
	pattern(buf, big, 3);
	assert_int_equal(bx_mux_send(&p->host.m, c, buf, big), big);
	size_t len;
	const uint8_t *out = bx_mux_out_peek(&p->host.m, &len);
	size_t frames = 0;
	for (size_t off = 0; off < len; frames++) {
		uint32_t flen = bx_get_u32(out + off + 8);
		assert_true(flen <= BX_FRAME_MAX_PAYLOAD);
		assert_int_equal(out[off + 4], BX_F_DATA);
		off += BX_FRAME_HDR_SIZE + flen;
	}
	assert_int_equal(frames, (big + BX_FRAME_MAX_PAYLOAD - 1) / BX_FRAME_MAX_PAYLOAD);
	pump(p);
	assert_int_equal(p->guest.data_len, 4 + big);
	assert_memory_equal(p->guest.data + 4, buf, big);
	free(buf);
}

static void test_credit_exhaustion_and_resume(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	pump(p);
	size_t total = BX_MUX_WINDOW + 1000;
	uint8_t *buf = malloc(total);
	pattern(buf, total, 1);
	/* only one window may be in flight */
	assert_int_equal(bx_mux_send(&p->host.m, c, buf, total), BX_MUX_WINDOW);
	assert_int_equal(bx_mux_send(&p->host.m, c, buf, 1), 0);
	pump(p);
	assert_int_equal(p->guest.data_len, BX_MUX_WINDOW);
	assert_int_equal(p->guest.accepted->recv_window, 0);
	/* the reader has not consumed: still stalled */
	assert_int_equal(bx_mux_send(&p->host.m, c, buf, 1), 0);
	assert_int_equal(p->host.credits, 0);
	/* consume; credit flows back and sending resumes */
	bx_mux_consumed(&p->guest.m, p->guest.accepted, BX_MUX_WINDOW);
	pump(p);
	assert_true(p->host.credits >= 1);
	assert_int_equal(c->send_credit, BX_MUX_WINDOW);
	assert_int_equal(bx_mux_send(&p->host.m, c, buf + BX_MUX_WINDOW, 1000), 1000);
	pump(p);
	assert_int_equal(p->guest.data_len, total);
	assert_memory_equal(p->guest.data, buf, total);
	free(buf);
}

static void test_stalled_channel_does_not_block_others(void **state)
{
	struct pair *p = *state;
	struct bx_chan *slow = open_chan(p, 1);
	struct bx_chan *fast = open_chan(p, 2);
	pump(p);
	uint8_t *buf = calloc(1, BX_MUX_WINDOW);
	assert_int_equal(bx_mux_send(&p->host.m, slow, buf, BX_MUX_WINDOW), BX_MUX_WINDOW);
	pump(p);
	assert_int_equal(bx_mux_send(&p->host.m, slow, buf, 1), 0);
	assert_int_equal(bx_mux_send(&p->host.m, fast, "x", 1), 1);
	pump(p);
	assert_int_equal(p->guest.data_chan, fast->id);
	free(buf);
}

static void test_credit_batching(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	pump(p);
	uint8_t *buf = calloc(1, BX_MUX_WINDOW / 2);
	assert_int_equal(bx_mux_send(&p->host.m, c, buf, BX_MUX_WINDOW / 2), BX_MUX_WINDOW / 2);
	pump(p);
	struct bx_chan *g = p->guest.accepted;
	/* many small consumptions produce no CREDIT until a quarter window */
	size_t step = 1000, done = 0;
	while (done + step < BX_MUX_WINDOW / 4) {
		bx_mux_consumed(&p->guest.m, g, step);
		done += step;
		assert_int_equal(bx_mux_out_pending(&p->guest.m), 0);
	}
	bx_mux_consumed(&p->guest.m, g, BX_MUX_WINDOW / 4 - done);
	size_t len;
	const uint8_t *out = bx_mux_out_peek(&p->guest.m, &len);
	assert_int_equal(len, BX_FRAME_HDR_SIZE + 4); /* exactly one CREDIT frame */
	assert_int_equal(out[4], BX_F_CREDIT);
	assert_int_equal(bx_get_u32(out), c->id);
	assert_int_equal(bx_get_u32(out + BX_FRAME_HDR_SIZE), BX_MUX_WINDOW / 4);
	pump(p);
	assert_int_equal(p->host.credits, 1);
	assert_int_equal(c->send_credit, BX_MUX_WINDOW / 2 + BX_MUX_WINDOW / 4);
	/* consuming more than was received is clamped (never over-credits) */
	bx_mux_consumed(&p->guest.m, g, 10 * BX_MUX_WINDOW);
	pump(p);
	assert_int_equal(c->send_credit, BX_MUX_WINDOW);
	assert_false(p->host.m.dead);
	free(buf);
}

static void test_eof(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	bx_mux_send(&p->host.m, c, "in", 2);
	bx_mux_send_eof(&p->host.m, c);
	bx_mux_send_eof(&p->host.m, c); /* idempotent */
	pump(p);
	assert_int_equal(p->guest.eofs, 1);
	assert_true(p->guest.accepted->got_eof);
	assert_int_equal(bx_mux_send(&p->host.m, c, "x", 1), 0); /* no DATA after EOF */
	/* half close: the other direction still works */
	assert_int_equal(bx_mux_send(&p->guest.m, p->guest.accepted, "out", 3), 3);
	bx_mux_send_eof(&p->guest.m, p->guest.accepted);
	pump(p);
	assert_int_equal(p->host.data_len, 3);
	assert_int_equal(p->host.eofs, 1);
}

static void test_close_handshake_and_id_reuse(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	uint32_t id = c->id;
	pump(p);
	bx_mux_close(&p->host.m, c);
	assert_int_equal(c->state, BX_CH_CLOSING);
	assert_int_equal(bx_mux_send(&p->host.m, c, "x", 1), 0);
	pump(p);
	assert_int_equal(p->guest.closes, 1);
	assert_int_equal(p->host.closes, 1);
	assert_null(bx_mux_chan(&p->host.m, id));
	assert_null(bx_mux_chan(&p->guest.m, id));

	/* the id may be used again at once */
	p->host.m.next_id = id;
	struct bx_chan *c2 = open_chan(p, 4090);
	assert_int_equal(c2->id, id);
	pump(p);
	assert_int_equal(p->guest.opens, 2);
	assert_int_equal(p->guest.last_port, 4090);
	assert_int_equal(c2->state, BX_CH_OPEN);

	/* guest-initiated close */
	bx_mux_close(&p->guest.m, p->guest.accepted);
	pump(p);
	assert_int_equal(p->host.closes, 2);
	assert_int_equal(p->guest.closes, 2);
	assert_int_equal(count_active(&p->host.m), 0);
	assert_int_equal(count_active(&p->guest.m), 0);
}

static void test_simultaneous_close(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	pump(p);
	bx_mux_close(&p->host.m, c);
	bx_mux_close(&p->guest.m, p->guest.accepted);
	pump(p);
	assert_int_equal(p->host.closes, 1);
	assert_int_equal(p->guest.closes, 1);
	assert_int_equal(count_active(&p->host.m), 0);
	assert_int_equal(count_active(&p->guest.m), 0);
}

static void test_close_before_answer(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	bx_mux_send(&p->host.m, c, "abc", 3);
	bx_mux_close(&p->host.m, c);
	pump(p);
	assert_int_equal(p->host.closes, 1);
	assert_int_equal(p->guest.closes, 1);
	assert_int_equal(count_active(&p->host.m), 0);
	assert_int_equal(count_active(&p->guest.m), 0);

	/* and when the peer refuses meanwhile */
	p->guest.refuse = ECONNREFUSED;
	c = open_chan(p, 9);
	bx_mux_close(&p->host.m, c);
	pump(p);
	assert_int_equal(p->host.closes, 2);
	assert_int_equal(p->guest.closes, 1); /* never accepted: no on_close */
	assert_int_equal(count_active(&p->host.m), 0);
	assert_int_equal(count_active(&p->guest.m), 0);
}

static void test_late_data_after_close_dropped(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	pump(p);
	bx_mux_close(&p->guest.m, p->guest.accepted);
	/* host sends before it sees the guest's CLOSE */
	assert_int_equal(bx_mux_send(&p->host.m, c, "late", 4), 4);
	bx_mux_send_eof(&p->host.m, c);
	assert_int_equal(xfer(&p->host.m, &p->guest.m, 0), 0);
	assert_int_equal(p->guest.data_len, 0);
	assert_int_equal(p->guest.eofs, 0);
	pump(p);
	assert_false(p->guest.m.dead);
	assert_int_equal(count_active(&p->guest.m), 0);
}

static void test_byte_at_a_time(void **state)
{
	struct pair *p = *state;
	p->guest.auto_consume = true;
	p->guest.greeting = "hi";
	struct bx_chan *c = open_chan(p, 4089);
	size_t total = 3 * BX_MUX_WINDOW / 2;
	uint8_t *buf = malloc(total);
	pattern(buf, total, 5);
	size_t sent = bx_mux_send(&p->host.m, c, buf, total);
	assert_int_equal(sent, BX_MUX_WINDOW);
	pump_step(p, 1);
	sent += bx_mux_send(&p->host.m, c, buf + sent, total - sent);
	assert_int_equal(sent, total);
	bx_mux_send_eof(&p->host.m, c);
	pump_step(p, 1);
	assert_int_equal(p->guest.data_len, total);
	assert_memory_equal(p->guest.data, buf, total);
	assert_int_equal(p->guest.eofs, 1);
	assert_int_equal(p->host.data_len, 2);
	bx_mux_close(&p->host.m, c);
	pump_step(p, 1);
	assert_int_equal(p->guest.closes, 1);
	assert_int_equal(p->host.closes, 1);
	/* the input buffer never grew beyond one maximal frame */
	assert_true(p->guest.m.in_cap <= BX_FRAME_HDR_SIZE + BX_FRAME_MAX_PAYLOAD);
	free(buf);
}

/* ---- protocol errors: raw frames fed to the guest ---- */

static int feed_raw(struct bx_mux *m, uint32_t chan, uint8_t type, const void *payload, uint32_t len)
{
	uint8_t hdr[BX_FRAME_HDR_SIZE];
	struct bx_err err = { 0 };
	bx_frame_encode_hdr(hdr, chan, type, len);
	uint8_t *buf = malloc(sizeof(hdr) + len);
	memcpy(buf, hdr, sizeof(hdr));
	if (len)
		memcpy(buf + sizeof(hdr), payload, len);
	int r = bx_mux_input(m, buf, sizeof(hdr) + len, &err);
	if (r < 0)
		assert_true(err.msg[0] != '\0');
	free(buf);
	return r;
}

static int feed_u32(struct bx_mux *m, uint32_t chan, uint8_t type, uint32_t v)
{
	uint8_t b[4];
	bx_put_u32(b, v);
	return feed_raw(m, chan, type, b, 4);
}

static void assert_dead(struct bx_mux *m)
{
	assert_true(m->dead);
	/* the link stays dead */
	assert_int_equal(feed_u32(m, 1001, BX_F_OPEN, 1), -1);
}

static void test_data_beyond_window(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	pump(p);
	uint8_t *buf = calloc(1, BX_MUX_WINDOW);
	assert_int_equal(bx_mux_send(&p->host.m, c, buf, BX_MUX_WINDOW), BX_MUX_WINDOW);
	pump(p);
	assert_int_equal(feed_raw(&p->guest.m, c->id, BX_F_DATA, "x", 1), -1);
	assert_dead(&p->guest.m);
	free(buf);
}

static void test_credit_overflow(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	pump(p);
	/* the host never sent anything: no credit can be owed to it */
	assert_int_equal(feed_u32(&p->host.m, c->id, BX_F_CREDIT, 1), -1);
	assert_dead(&p->host.m);
}

static void test_unknown_channel(void **state)
{
	struct pair *p = *state;
	assert_int_equal(feed_raw(&p->guest.m, 5, BX_F_DATA, "x", 1), -1);
	assert_dead(&p->guest.m);
}

static void test_unknown_channel_other_types(void **state)
{
	static const uint8_t types[] = { BX_F_CREDIT, BX_F_EOF, BX_F_CLOSE, BX_F_OPEN_OK };
	for (size_t i = 0; i < sizeof(types); i++) {
		struct bx_mux m;
		bx_mux_init(&m, false, &ops, NULL);
		int r = types[i] == BX_F_CREDIT ? feed_u32(&m, 5, types[i], 10) : feed_raw(&m, 5, types[i], NULL, 0);
		assert_int_equal(r, -1);
		assert_true(m.dead);
		bx_mux_free(&m);
	}
}

static void test_bad_open(void **state)
{
	struct pair *p = *state;
	/* wrong parity: the guest only accepts odd (host) ids */
	assert_int_equal(feed_u32(&p->guest.m, 2, BX_F_OPEN, 4089), -1);
	bx_mux_free(&p->guest.m);
	bx_mux_init(&p->guest.m, false, &ops, &p->guest);
	assert_int_equal(feed_u32(&p->guest.m, 0, BX_F_OPEN, 4089), -1);
	bx_mux_free(&p->guest.m);
	bx_mux_init(&p->guest.m, false, &ops, &p->guest);
	/* id already in use */
	assert_int_equal(feed_u32(&p->guest.m, 3, BX_F_OPEN, 4089), 0);
	assert_int_equal(feed_u32(&p->guest.m, 3, BX_F_OPEN, 4089), -1);
	assert_dead(&p->guest.m);
}

static void test_malformed_frames(void **state)
{
	struct bx_mux m;
	uint8_t hdr[BX_FRAME_HDR_SIZE];
	struct bx_err err;

	/* oversized: refused from the header alone, nothing buffered */
	bx_mux_init(&m, false, &ops, NULL);
	bx_frame_encode_hdr(hdr, 1, BX_F_DATA, BX_FRAME_MAX_PAYLOAD + 1);
	assert_int_equal(bx_mux_input(&m, hdr, 6, &err), 0);
	assert_int_equal(bx_mux_input(&m, hdr + 6, 6, &err), -1);
	assert_true(m.in_cap <= BX_FRAME_HDR_SIZE);
	bx_mux_free(&m);

	/* unknown type */
	bx_mux_init(&m, false, &ops, NULL);
	bx_frame_encode_hdr(hdr, 1, 42, 0);
	assert_int_equal(bx_mux_input(&m, hdr, sizeof(hdr), &err), -1);
	bx_mux_free(&m);

	/* wrong payload size for the type */
	bx_mux_init(&m, false, &ops, NULL);
	assert_int_equal(feed_raw(&m, 1, BX_F_OPEN, "ab", 2), -1);
	bx_mux_free(&m);
}

static void test_open_full_table(void **state)
{
	struct pair *p = *state;
	struct bx_err err;
	for (int i = 0; i < BX_MUX_MAX_CHANNELS; i++)
		assert_non_null(bx_mux_open(&p->host.m, 1, &err));
	assert_null(bx_mux_open(&p->host.m, 1, &err));
	assert_int_equal(err.errnum, EMFILE);
	pump(p);
	assert_int_equal(p->guest.opens, BX_MUX_MAX_CHANNELS);
	assert_int_equal(count_active(&p->guest.m), BX_MUX_MAX_CHANNELS);
	/* every id is distinct and findable */
	for (int i = 0; i < BX_MUX_MAX_CHANNELS; i++) {
		struct bx_chan *c = &p->host.m.chans[i];
		assert_ptr_equal(bx_mux_chan(&p->host.m, c->id), c);
		assert_non_null(bx_mux_chan(&p->guest.m, c->id));
	}
}

static void test_id_wraps_and_skips_in_use(void **state)
{
	struct pair *p = *state;
	struct bx_err err;
	p->host.m.next_id = UINT32_MAX;
	struct bx_chan *a = bx_mux_open(&p->host.m, 1, &err);
	assert_int_equal(a->id, UINT32_MAX);
	struct bx_chan *b = bx_mux_open(&p->host.m, 1, &err);
	assert_int_equal(b->id, 1);
	p->host.m.next_id = 1; /* 1 is taken: skipped */
	struct bx_chan *c = bx_mux_open(&p->host.m, 1, &err);
	assert_int_equal(c->id, 3);

	p->guest.m.next_id = UINT32_MAX - 1;
	struct bx_chan *g1 = bx_mux_open(&p->guest.m, 1, &err);
	struct bx_chan *g2 = bx_mux_open(&p->guest.m, 1, &err);
	assert_int_equal(g1->id, UINT32_MAX - 1);
	assert_int_equal(g2->id, 2); /* never 0 */
	pump(p);
	assert_false(p->host.m.dead);
	assert_false(p->guest.m.dead);
}


/* ---- a peer that writes and never reads (issue 10's hostile guest) ---- */

/* 64 KiB of the guest's flood: OPEN channel 2 on port 4089, then CLOSE, over
 * and over; the host refuses each OPEN with an OPEN_ERR it must queue. */
#define FLOOD_CHUNK 65536
static uint8_t *flood_chunk(size_t *len)
{
	static const uint8_t pair[28] = {2, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0xf9, 0x0f, 0, 0,
					 2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0};
	*len = FLOOD_CHUNK / sizeof(pair) * sizeof(pair);
	uint8_t *buf = malloc(*len);
	for (size_t off = 0; off < *len; off += sizeof(pair))
		memcpy(buf + off, pair, sizeof(pair));
	return buf;
}

/* The owner reads the peer only while the mux does not ask it to pause: the
 * queue stops growing just past the high watermark, however long the peer
 * floods, and reading resumes only once the peer drained it below the low one. */
static void test_flood_pauses_input(void **state)
{
	struct pair *p = *state;
	struct bx_err err;
	size_t len;
	uint8_t *chunk = flood_chunk(&len);
	p->host.refuse = ECONNREFUSED;
	size_t fed = 0, max_pending = 0;
	for (int i = 0; i < 4096; i++) { /* 256 MiB offered */
		if (bx_mux_input_paused(&p->host.m))
			continue; /* the owner does not read: the bytes stay with the peer */
		assert_int_equal(bx_mux_input(&p->host.m, chunk, len, &err), 0);
		fed += len;
		if (bx_mux_out_pending(&p->host.m) > max_pending)
			max_pending = bx_mux_out_pending(&p->host.m);
	}
	assert_true(bx_mux_input_paused(&p->host.m));
	assert_true(max_pending >= BX_MUX_OUT_HIGH);
	assert_true(max_pending <= BX_MUX_OUT_HIGH + FLOOD_CHUNK);
	assert_true(fed < 4 * 1024 * 1024);
	assert_false(p->host.m.dead);
	/* the peer reads down to between the watermarks: still paused */
	bx_mux_out_consume(&p->host.m, bx_mux_out_pending(&p->host.m) - BX_MUX_OUT_LOW - 1);
	assert_true(bx_mux_input_paused(&p->host.m));
	/* below the low watermark: reading resumes */
	bx_mux_out_consume(&p->host.m, 1);
	assert_false(bx_mux_input_paused(&p->host.m));
	assert_int_equal(bx_mux_input(&p->host.m, chunk, len, &err), 0);
	free(chunk);
}

/* An owner that keeps reading anyway: past BX_MUX_OUT_LIMIT the link dies
 * with an error that says why, and the queue never exceeds the limit. */
static void test_flood_past_limit_kills_link(void **state)
{
	struct pair *p = *state;
	struct bx_err err = {0};
	size_t len;
	uint8_t *chunk = flood_chunk(&len);
	p->host.refuse = ECONNREFUSED;
	int r = 0;
	for (int i = 0; i < 4096 && r == 0; i++)
		r = bx_mux_input(&p->host.m, chunk, len, &err);
	assert_int_equal(r, -1);
	assert_int_equal(err.errnum, ENOBUFS);
	assert_non_null(strstr(err.msg, "does not read"));
	assert_true(bx_mux_out_pending(&p->host.m) <= BX_MUX_OUT_LIMIT);
	/* later input names the same cause */
	assert_int_equal(bx_mux_input(&p->host.m, chunk, len, &err), -1);
	assert_non_null(strstr(err.msg, "does not read"));
	free(chunk);
}

/* DATA of our own is held back while the queue is at the high watermark. */
static void test_send_room_zero_while_queue_full(void **state)
{
	struct pair *p = *state;
	struct bx_chan *c = open_chan(p, 4089);
	pump(p);
	uint8_t *buf = calloc(1, BX_MUX_WINDOW);
	/* fill the queue with the flood's answers on another (refused) path */
	size_t len;
	uint8_t *chunk = flood_chunk(&len);
	struct bx_err err;
	p->host.refuse = ECONNREFUSED;
	while (!bx_mux_input_paused(&p->host.m))
		assert_int_equal(bx_mux_input(&p->host.m, chunk, len, &err), 0);
	assert_int_equal(bx_mux_send_room(&p->host.m, c), 0);
	assert_int_equal(bx_mux_send(&p->host.m, c, buf, 100), 0);
	assert_int_equal(c->send_credit, BX_MUX_WINDOW);
	bx_mux_out_consume(&p->host.m, bx_mux_out_pending(&p->host.m));
	assert_int_equal(bx_mux_send_room(&p->host.m, c), BX_MUX_WINDOW);
	assert_int_equal(bx_mux_send(&p->host.m, c, buf, 100), 100);
	free(chunk);
	free(buf);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_accept),
		T(test_open_refused),
		T(test_no_service_refuses),
		T(test_refuse_drops_data_queued_in_on_open),
		T(test_send_in_on_open),
		T(test_data_both_ways),
		T(test_credit_exhaustion_and_resume),
		T(test_stalled_channel_does_not_block_others),
		T(test_credit_batching),
		T(test_eof),
		T(test_close_handshake_and_id_reuse),
		T(test_simultaneous_close),
		T(test_close_before_answer),
		T(test_late_data_after_close_dropped),
		T(test_byte_at_a_time),
		T(test_data_beyond_window),
		T(test_credit_overflow),
		T(test_unknown_channel),
		T(test_unknown_channel_other_types),
		T(test_bad_open),
		T(test_malformed_frames),
		T(test_open_full_table),
		T(test_id_wraps_and_skips_in_use),
		T(test_flood_pauses_input),
		T(test_flood_past_limit_kills_link),
		T(test_send_room_zero_while_queue_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
