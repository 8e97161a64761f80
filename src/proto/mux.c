/* Channel multiplexer over one byte stream (mux.h). */
#include "mux.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Implementation notes
 *
 * Channel table: a fixed array probed from a hash of the id. Lookups scan the
 * whole table on a miss (no tombstones needed); misses only happen on OPEN and
 * on protocol errors, so the common path stays short.
 *
 * Refused channels: the opener may already have sent DATA/EOF/CLOSE behind its
 * OPEN when our OPEN_ERR reaches it. So a refused channel keeps its slot in
 * CLOSING state (OPEN_ERR counts as our CLOSE) and drops those frames; the
 * opener sends CLOSE once it sees OPEN_ERR (unless it already closed), which
 * frees the slot. Such a slot is marked through c->user so the owner never gets
 * on_close for a channel it never accepted.
 *
 * Because the stream is ordered, once a side has seen both CLOSEs no further
 * frame for that id can arrive, so the id is immediately reusable and any
 * frame for an unknown id is a protocol error.
 */

static const char refused_mark; /* address only: tags refused channels */

#define W BX_MUX_WINDOW

#define PROTO_ERR(m, err, ...) ((m)->dead = true, bx_fail((err), EPROTO, "mux: " __VA_ARGS__))

static const char *const type_names[] = {
	[BX_F_OPEN] = "OPEN", [BX_F_OPEN_OK] = "OPEN_OK", [BX_F_OPEN_ERR] = "OPEN_ERR",
	[BX_F_DATA] = "DATA", [BX_F_CREDIT] = "CREDIT",   [BX_F_EOF] = "EOF",
	[BX_F_CLOSE] = "CLOSE",
};

/* Payload size each frame type must have; -1: any. */
static const int payload_size[] = {
	[BX_F_OPEN] = 4, [BX_F_OPEN_OK] = 0, [BX_F_OPEN_ERR] = 4, [BX_F_DATA] = -1,
	[BX_F_CREDIT] = 4, [BX_F_EOF] = 0, [BX_F_CLOSE] = 0,
};

void bx_mux_init(struct bx_mux *m, bool is_host, const struct bx_mux_ops *ops, void *user)
{
	memset(m, 0, sizeof(*m));
	m->is_host = is_host;
	m->next_id = is_host ? 1 : 2;
	m->ops = ops;
	m->user = user;
}

void bx_mux_free(struct bx_mux *m)
{
	free(m->in);
	m->in = NULL;
	m->in_len = m->in_cap = 0;
	bx_bytes_free(&m->out);
}

/* ---- channel table ---- */

static size_t id_slot(uint32_t id)
{
	/* consecutive ids of one side land in consecutive slots */
	return (id >> 1) % BX_MUX_MAX_CHANNELS;
}

struct bx_chan *bx_mux_chan(struct bx_mux *m, uint32_t id)
{
	if (id == 0)
		return NULL;
	size_t h = id_slot(id);
	for (size_t i = 0; i < BX_MUX_MAX_CHANNELS; i++) {
		struct bx_chan *c = &m->chans[(h + i) % BX_MUX_MAX_CHANNELS];
		if (c->state != BX_CH_FREE && c->id == id)
			return c;
	}
	return NULL;
}

static struct bx_chan *chan_alloc(struct bx_mux *m, uint32_t id, enum bx_chan_state state, uint32_t port)
{
	size_t h = id_slot(id);
	for (size_t i = 0; i < BX_MUX_MAX_CHANNELS; i++) {
		struct bx_chan *c = &m->chans[(h + i) % BX_MUX_MAX_CHANNELS];
		if (c->state != BX_CH_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->id = id;
		c->state = state;
		c->port = port;
		/* both ends start with the full window; the opener may send at once */
		c->send_credit = W;
		c->recv_window = W;
		return c;
	}
	return NULL;
}

static bool chan_full(const struct bx_mux *m)
{
	for (size_t i = 0; i < BX_MUX_MAX_CHANNELS; i++)
		if (m->chans[i].state == BX_CH_FREE)
			return false;
	return true;
}

static void chan_release(struct bx_chan *c)
{
	memset(c, 0, sizeof(*c));
}

static bool chan_refused(const struct bx_chan *c)
{
	return c->user == &refused_mark;
}

/* ---- outgoing queue ---- */

const uint8_t *bx_mux_out_peek(struct bx_mux *m, size_t *len)
{
	*len = bx_bytes_size(&m->out);
	return bx_bytes_data(&m->out);
}

void bx_mux_out_consume(struct bx_mux *m, size_t n)
{
	bx_bytes_pop(&m->out, n);
	if (m->in_paused && bx_mux_out_pending(m) <= BX_MUX_OUT_LOW)
		m->in_paused = false;
}

size_t bx_mux_out_pending(const struct bx_mux *m)
{
	return bx_bytes_size(&m->out);
}

bool bx_mux_input_paused(const struct bx_mux *m)
{
	return m->in_paused;
}

/* Make room for n more bytes at the end; a failure kills the link (we cannot
 * drop a frame without desynchronising the peer's credit accounting). */
static bool out_reserve(struct bx_mux *m, size_t n)
{
	if (bx_mux_out_pending(m) + n > BX_MUX_OUT_LIMIT) {
		m->out_overflow = true;
		m->dead = true;
		return false;
	}
	if (!bx_bytes_reserve(&m->out, n, NULL)) {
		m->dead = true; /* reported by fail_queue */
		return false;
	}
	return true;
}

/* Backpressure starts once the queue reaches the high watermark. */
static void note_queued(struct bx_mux *m)
{
	if (bx_mux_out_pending(m) >= BX_MUX_OUT_HIGH)
		m->in_paused = true;
}

static bool emit(struct bx_mux *m, uint32_t chan, uint8_t type, const void *payload, uint32_t len)
{
	if (!out_reserve(m, BX_FRAME_HDR_SIZE + (size_t)len))
		return false;
	uint8_t *at = m->out.buf + m->out.len;
	bx_frame_encode_hdr(at, chan, type, len);
	if (len)
		memcpy(at + BX_FRAME_HDR_SIZE, payload, len);
	bx_bytes_commit(&m->out, BX_FRAME_HDR_SIZE + (size_t)len);
	note_queued(m);
	return true;
}

static bool emit_u32(struct bx_mux *m, uint32_t chan, uint8_t type, uint32_t v)
{
	uint8_t b[4];
	bx_put_u32(b, v);
	return emit(m, chan, type, b, sizeof(b));
}

/* Insert OPEN_OK at queue position `rel` (relative to the unwritten start), so
 * it precedes anything on_open already queued for the new channel. */
static bool insert_open_ok(struct bx_mux *m, size_t rel, uint32_t chan)
{
	if (!out_reserve(m, BX_FRAME_HDR_SIZE))
		return false;
	size_t pos = m->out.off + rel; /* after the reserve: it may have moved the queue */
	memmove(m->out.buf + pos + BX_FRAME_HDR_SIZE, m->out.buf + pos, m->out.len - pos);
	bx_frame_encode_hdr(m->out.buf + pos, chan, BX_F_OPEN_OK, 0);
	bx_bytes_commit(&m->out, BX_FRAME_HDR_SIZE);
	note_queued(m);
	return true;
}

/* Remove frames for `chan` queued after `rel`: on_open queued them on a
 * channel it then refused, and the peer must not see them. */
static void drop_queued(struct bx_mux *m, size_t rel, uint32_t chan)
{
	size_t pos = m->out.off + rel;
	while (pos < m->out.len) {
		uint8_t *f = m->out.buf + pos;
		size_t n = BX_FRAME_HDR_SIZE + bx_get_u32(f + 8);
		if (bx_get_u32(f) == chan) {
			memmove(f, f + n, m->out.len - pos - n);
			m->out.len -= n;
		} else {
			pos += n;
		}
	}
}

/* ---- incoming frames ---- */

static bool peer_parity(const struct bx_mux *m, uint32_t id)
{
	/* the host opens odd ids, so it accepts even ones, and vice versa */
	return (id & 1u) == (m->is_host ? 0u : 1u);
}

static int on_open_frame(struct bx_mux *m, const struct bx_frame *f, struct bx_err *err)
{
	if (f->chan == 0 || !peer_parity(m, f->chan))
		return PROTO_ERR(m, err, "peer opened channel %u with the wrong id parity", f->chan);
	if (bx_mux_chan(m, f->chan))
		return PROTO_ERR(m, err, "peer opened channel %u which is already in use", f->chan);
	/* Without a slot we could not drop the DATA that may follow this OPEN. */
	struct bx_chan *c = chan_alloc(m, f->chan, BX_CH_OPEN, bx_get_u32(f->payload));
	if (!c)
		return PROTO_ERR(m, err, "peer opened channel %u but all %d channels are in use", f->chan,
				 BX_MUX_MAX_CHANNELS);
	size_t rel = bx_mux_out_pending(m);
	int rc = m->ops && m->ops->on_open ? m->ops->on_open(m, c) : ECONNREFUSED;
	if (rc == 0)
		return insert_open_ok(m, rel, c->id) ? 0 : -1;
	if (rc < 0)
		rc = -rc;
	drop_queued(m, rel, c->id);
	c->state = BX_CH_CLOSING;
	c->user = (void *)&refused_mark;
	c->send_credit = 0;
	return emit_u32(m, c->id, BX_F_OPEN_ERR, (uint32_t)rc) ? 0 : -1;
}

static int on_open_ok(struct bx_mux *m, struct bx_chan *c, struct bx_err *err)
{
	if (c->state == BX_CH_CLOSING) /* we closed before the answer; wait for the CLOSE */
		return 0;
	if (c->state != BX_CH_OPENING)
		return PROTO_ERR(m, err, "OPEN_OK for channel %u which is not opening", c->id);
	c->state = BX_CH_OPEN;
	if (m->ops && m->ops->on_open_result)
		m->ops->on_open_result(m, c, 0);
	return 0;
}

static int on_open_err(struct bx_mux *m, struct bx_chan *c, uint32_t errnum, struct bx_err *err)
{
	if (errnum == 0 || errnum > 4095)
		return PROTO_ERR(m, err, "OPEN_ERR for channel %u with invalid errno %u", c->id, errnum);
	if (c->state == BX_CH_CLOSING && !chan_refused(c)) {
		/* our CLOSE is already on its way and frees the peer's slot */
		if (m->ops && m->ops->on_close)
			m->ops->on_close(m, c);
		chan_release(c);
		return 0;
	}
	if (c->state != BX_CH_OPENING)
		return PROTO_ERR(m, err, "OPEN_ERR for channel %u which is not opening", c->id);
	/* the peer keeps the id until our CLOSE: it may still receive our DATA */
	if (!emit(m, c->id, BX_F_CLOSE, NULL, 0))
		return -1;
	c->state = BX_CH_CLOSING; /* sends during the callback are refused */
	if (m->ops && m->ops->on_open_result)
		m->ops->on_open_result(m, c, (int)errnum);
	chan_release(c);
	return 0;
}

static int on_data_frame(struct bx_mux *m, struct bx_chan *c, const struct bx_frame *f, struct bx_err *err)
{
	if (c->state == BX_CH_CLOSING) /* late DATA after our CLOSE (or refusal) */
		return 0;
	if (c->state != BX_CH_OPEN)
		return PROTO_ERR(m, err, "DATA on channel %u before it was accepted", c->id);
	if (c->got_eof)
		return PROTO_ERR(m, err, "DATA on channel %u after EOF", c->id);
	if (f->len > c->recv_window)
		return PROTO_ERR(m, err, "%u bytes of DATA on channel %u exceed the %u-byte window", f->len,
				 c->id, c->recv_window);
	c->recv_window -= f->len;
	if (f->len && m->ops && m->ops->on_data)
		m->ops->on_data(m, c, f->payload, f->len);
	return 0;
}

static int on_credit_frame(struct bx_mux *m, struct bx_chan *c, uint32_t n, struct bx_err *err)
{
	if (c->state == BX_CH_CLOSING)
		return 0;
	if (c->state != BX_CH_OPEN)
		return PROTO_ERR(m, err, "CREDIT on channel %u before it was accepted", c->id);
	/* the peer can never have granted more than one window in total */
	if (n > W - c->send_credit)
		return PROTO_ERR(m, err, "CREDIT of %u on channel %u overflows the window", n, c->id);
	c->send_credit += n;
	if (m->ops && m->ops->on_credit)
		m->ops->on_credit(m, c);
	return 0;
}

static int on_eof_frame(struct bx_mux *m, struct bx_chan *c, struct bx_err *err)
{
	if (c->state == BX_CH_CLOSING)
		return 0;
	if (c->state != BX_CH_OPEN)
		return PROTO_ERR(m, err, "EOF on channel %u before it was accepted", c->id);
	if (c->got_eof)
		return PROTO_ERR(m, err, "second EOF on channel %u", c->id);
	c->got_eof = true;
	if (m->ops && m->ops->on_eof)
		m->ops->on_eof(m, c);
	return 0;
}

static int on_close_frame(struct bx_mux *m, struct bx_chan *c, struct bx_err *err)
{
	if (c->state == BX_CH_OPENING)
		return PROTO_ERR(m, err, "CLOSE on channel %u before it was answered", c->id);
	if (c->state == BX_CH_OPEN) {
		/* answer first; CLOSING makes sends in the callback no-ops */
		if (!emit(m, c->id, BX_F_CLOSE, NULL, 0))
			return -1;
		c->state = BX_CH_CLOSING;
	}
	/* both CLOSEs seen: the id is free */
	c->got_close = true;
	if (!chan_refused(c) && m->ops && m->ops->on_close)
		m->ops->on_close(m, c);
	chan_release(c);
	return 0;
}

static int dispatch(struct bx_mux *m, const struct bx_frame *f, struct bx_err *err)
{
	int want = payload_size[f->type];
	if (want >= 0 && f->len != (uint32_t)want)
		return PROTO_ERR(m, err, "%s frame on channel %u has a %u-byte payload (expected %d)",
				 type_names[f->type], f->chan, f->len, want);
	if (f->type == BX_F_OPEN)
		return on_open_frame(m, f, err);
	struct bx_chan *c = bx_mux_chan(m, f->chan);
	if (!c)
		return PROTO_ERR(m, err, "%s frame on unknown channel %u", type_names[f->type], f->chan);
	switch (f->type) {
	case BX_F_OPEN_OK: return on_open_ok(m, c, err);
	case BX_F_OPEN_ERR: return on_open_err(m, c, bx_get_u32(f->payload), err);
	case BX_F_DATA: return on_data_frame(m, c, f, err);
	case BX_F_CREDIT: return on_credit_frame(m, c, bx_get_u32(f->payload), err);
	case BX_F_EOF: return on_eof_frame(m, c, err);
	case BX_F_CLOSE: return on_close_frame(m, c, err);
	default: return PROTO_ERR(m, err, "unexpected frame type %u", f->type);
	}
}

/* Why queueing failed: the hard limit, or memory. */
static int fail_queue(const struct bx_mux *m, struct bx_err *err)
{
	if (m->out_overflow)
		return bx_fail(err, ENOBUFS, "mux: the peer does not read what is sent to it (%zu bytes queued, limit %u)",
			       bx_mux_out_pending(m), BX_MUX_OUT_LIMIT);
	return bx_fail(err, ENOMEM, "mux: cannot queue outgoing frames");
}

static int dispatch_checked(struct bx_mux *m, const struct bx_frame *f, struct bx_err *err)
{
	if (dispatch(m, f, err) < 0 || m->dead) {
		if (m->dead && err && err->msg[0] == '\0')
			fail_queue(m, err);
		m->dead = true;
		return -1;
	}
	return 0;
}

/* Buffer part of a frame that arrived split across reads. Takes at most what
 * completes the header, then at most what completes the (validated) frame, so
 * the buffer never exceeds one maximum frame. */
static int feed_partial(struct bx_mux *m, const uint8_t **p, size_t *len, struct bx_err *err)
{
	size_t need = m->in_len < BX_FRAME_HDR_SIZE ? BX_FRAME_HDR_SIZE
						     : BX_FRAME_HDR_SIZE + bx_get_u32(m->in + 8);
	if (m->in_cap < need) {
		uint8_t *nb = realloc(m->in, need);
		if (!nb) {
			m->dead = true;
			return bx_fail(err, ENOMEM, "mux: cannot buffer an incoming frame");
		}
		m->in = nb;
		m->in_cap = need;
	}
	size_t take = need - m->in_len < *len ? need - m->in_len : *len;
	memcpy(m->in + m->in_len, *p, take);
	m->in_len += take;
	*p += take;
	*len -= take;

	struct bx_frame f;
	int r = bx_frame_decode(m->in, m->in_len, &f, err);
	if (r < 0) {
		m->dead = true;
		return -1;
	}
	if (r == 0)
		return 0;
	m->in_len = 0;
	return dispatch_checked(m, &f, err);
}

int bx_mux_input(struct bx_mux *m, const void *buf, size_t len, struct bx_err *err)
{
	if (m->dead && m->out_overflow)
		return fail_queue(m, err);
	if (m->dead)
		return bx_fail(err, EPIPE, "mux: link is dead after an earlier error");
	if (err)
		err->msg[0] = '\0';
	const uint8_t *p = buf;
	while (len > 0) {
		if (m->in_len == 0) {
			/* fast path: decode whole frames straight from the caller's buffer */
			struct bx_frame f;
			int r = bx_frame_decode(p, len, &f, err);
			if (r < 0) {
				m->dead = true;
				return -1;
			}
			if (r > 0) {
				if (dispatch_checked(m, &f, err) < 0)
					return -1;
				p += r;
				len -= (size_t)r;
				continue;
			}
		}
		if (feed_partial(m, &p, &len, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- owner API ---- */

static uint32_t next_id_after(const struct bx_mux *m, uint32_t id)
{
	id = (id & ~1u) | (m->is_host ? 1u : 0u); /* keep our parity even if next_id was set oddly */
	if (id == 0)
		id = 2;
	return id;
}

struct bx_chan *bx_mux_open(struct bx_mux *m, uint32_t port, struct bx_err *err)
{
	if (m->dead) {
		bx_fail(err, EPIPE, "mux: link is dead");
		return NULL;
	}
	if (chan_full(m)) {
		bx_fail(err, EMFILE, "mux: all %d channels are in use", BX_MUX_MAX_CHANNELS);
		return NULL;
	}
	/* a free slot exists, so fewer than BX_MUX_MAX_CHANNELS ids are taken */
	uint32_t id = next_id_after(m, m->next_id);
	while (bx_mux_chan(m, id))
		id = next_id_after(m, id + 2);
	m->next_id = next_id_after(m, id + 2);
	struct bx_chan *c = chan_alloc(m, id, BX_CH_OPENING, port);
	if (!emit_u32(m, id, BX_F_OPEN, port)) {
		chan_release(c);
		bx_fail(err, ENOMEM, "mux: cannot queue OPEN");
		return NULL;
	}
	return c;
}

size_t bx_mux_send_room(const struct bx_mux *m, const struct bx_chan *c)
{
	if (m->dead || (c->state != BX_CH_OPEN && c->state != BX_CH_OPENING) || c->sent_eof ||
	    bx_mux_out_pending(m) >= BX_MUX_OUT_HIGH)
		return 0;
	return c->send_credit;
}

size_t bx_mux_send(struct bx_mux *m, struct bx_chan *c, const void *buf, size_t len)
{
	size_t room = bx_mux_send_room(m, c);
	size_t n = len < room ? len : room;
	const uint8_t *p = buf;
	size_t done = 0;
	while (done < n) {
		size_t chunk = n - done < BX_FRAME_MAX_PAYLOAD ? n - done : BX_FRAME_MAX_PAYLOAD;
		if (!emit(m, c->id, BX_F_DATA, p + done, (uint32_t)chunk))
			break;
		done += chunk;
	}
	c->send_credit -= (uint32_t)done;
	return done;
}

/* Batch credit: one CREDIT per quarter window consumed, or sooner once the
 * peer is close to stalling and a worthwhile amount (1/64 window) is free. */
static bool credit_due(const struct bx_chan *c)
{
	if (c->recv_unacked >= W / 4)
		return true;
	return c->recv_window < W / 4 && c->recv_unacked >= W / 64;
}

void bx_mux_consumed(struct bx_mux *m, struct bx_chan *c, size_t n)
{
	if (m->dead || c->state != BX_CH_OPEN || c->got_eof)
		return; /* nobody will send more: credit is pointless */
	/* never return more than was received, or the peer would see an overflow */
	size_t outstanding = W - c->recv_window - c->recv_unacked;
	c->recv_unacked += (uint32_t)(n < outstanding ? n : outstanding);
	if (!credit_due(c))
		return;
	if (!emit_u32(m, c->id, BX_F_CREDIT, c->recv_unacked))
		return;
	c->recv_window += c->recv_unacked;
	c->recv_unacked = 0;
}

void bx_mux_send_eof(struct bx_mux *m, struct bx_chan *c)
{
	if (m->dead || (c->state != BX_CH_OPEN && c->state != BX_CH_OPENING) || c->sent_eof)
		return;
	if (emit(m, c->id, BX_F_EOF, NULL, 0))
		c->sent_eof = true;
}

void bx_mux_close(struct bx_mux *m, struct bx_chan *c)
{
	if (m->dead || (c->state != BX_CH_OPEN && c->state != BX_CH_OPENING))
		return;
	if (emit(m, c->id, BX_F_CLOSE, NULL, 0))
		c->state = BX_CH_CLOSING;
}
