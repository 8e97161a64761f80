/* Channel multiplexer over one byte stream: pure logic, no I/O.
 *
 * The owner feeds received bytes with bx_mux_input() (callbacks fire for each
 * event) and drains encoded outgoing frames from bx_mux_out_*(). Channels are
 * byte streams with per-channel credit flow control: a side may have at most
 * BX_MUX_WINDOW un-acknowledged DATA bytes in flight per channel; the receiver
 * returns credit (CREDIT frame) as its application consumes data
 * (bx_mux_consumed), so one slow reader stalls only its own channel.
 *
 * Channel ids: the host allocates odd ids, the guest even ids (never 0).
 * The opener may send DATA immediately after OPEN (it assumes the full window);
 * if the acceptor refuses (OPEN_ERR) it drops that DATA.
 * Lifecycle: OPEN -> (OPEN_OK | OPEN_ERR) -> (DATA | CREDIT)* -> EOF (each
 * direction, optional) -> CLOSE from one side, CLOSE answered by the other;
 * the id is free once both CLOSEs are seen. After sending CLOSE a side drops
 * any DATA that still arrives for that channel.
 * Refusal: OPEN_ERR counts as the acceptor's CLOSE; the opener answers it with
 * CLOSE (done inside the mux), so the acceptor can drop the opener's early DATA
 * and knows when the id is free. An OPEN arriving while all
 * BX_MUX_MAX_CHANNELS slots are taken is a protocol error. */
#ifndef BOXVM_MUX_H
#define BOXVM_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/bytes.h"
#include "../common/err.h"
#include "frame.h"

#define BX_MUX_WINDOW (256u * 1024u)
#define BX_MUX_MAX_CHANNELS 1024

/* Bounds on the output queue. Every frame the peer sends may make us queue an
 * answer (OPEN_ERR, OPEN_OK, CLOSE, CREDIT), so a peer that writes without
 * ever reading would grow the queue without bound: a hostile guest sending
 * OPEN+CLOSE pairs made the shim queue 146 MiB per 256 MiB sent. Backpressure:
 * the owner stops reading the peer while bx_mux_input_paused() says so, from
 * BX_MUX_OUT_HIGH queued bytes until the peer has drained the queue below
 * BX_MUX_OUT_LOW (answers are never larger than the frames that caused them,
 * so the queue then stays within HIGH plus one read). Owners also send their
 * own DATA only below BX_MUX_OUT_HIGH (bx_mux_send_room). BX_MUX_OUT_LIMIT is
 * the hard stop for an owner that does neither: a frame that would take the
 * queue past it kills the link with a clear error instead of growing memory. */
#define BX_MUX_OUT_HIGH (1024u * 1024u)
#define BX_MUX_OUT_LOW (256u * 1024u)
#define BX_MUX_OUT_LIMIT (16u * 1024u * 1024u)

enum bx_chan_state {
	BX_CH_FREE = 0,
	BX_CH_OPENING,    /* we sent OPEN, no answer yet */
	BX_CH_OPEN,
	BX_CH_CLOSING,    /* we sent CLOSE, waiting for the peer's CLOSE */
};

struct bx_chan {
	uint32_t id;
	enum bx_chan_state state;
	uint32_t port;
	uint32_t send_credit;   /* bytes we may still send */
	uint32_t recv_window;   /* bytes the peer may still send us */
	uint32_t recv_unacked;  /* consumed by app but not yet returned as CREDIT */
	bool sent_eof, got_eof;
	bool got_close;
	void *user;             /* owner's per-channel data */
};

struct bx_mux;

struct bx_mux_ops {
	/* Peer opened a channel to `port`. Return 0 to accept (OPEN_OK is sent),
	 * or an errno to refuse (OPEN_ERR). The callee may set c->user. */
	int (*on_open)(struct bx_mux *m, struct bx_chan *c);
	/* Our OPEN was answered: errnum 0 = accepted. On refusal the channel is freed after the call. */
	void (*on_open_result)(struct bx_mux *m, struct bx_chan *c, int errnum);
	void (*on_data)(struct bx_mux *m, struct bx_chan *c, const uint8_t *buf, size_t len);
	void (*on_eof)(struct bx_mux *m, struct bx_chan *c);
	/* Peer closed (or answered our CLOSE). After it returns the channel is freed. */
	void (*on_close)(struct bx_mux *m, struct bx_chan *c);
	/* Credit arrived: the owner may resume sending on c. Optional. */
	void (*on_credit)(struct bx_mux *m, struct bx_chan *c);
};

struct bx_mux {
	bool is_host;
	uint32_t next_id;
	const struct bx_mux_ops *ops;
	void *user;
	struct bx_chan chans[BX_MUX_MAX_CHANNELS];
	/* incoming bytes not yet forming a whole frame */
	uint8_t *in;
	size_t in_len, in_cap;
	/* encoded outgoing frames not yet written */
	struct bx_bytes out;
	bool in_paused;   /* backpressure: the owner should not read the peer */
	bool out_overflow; /* the queue hit BX_MUX_OUT_LIMIT (the link is dead) */
	bool dead;
};

void bx_mux_init(struct bx_mux *m, bool is_host, const struct bx_mux_ops *ops, void *user);
void bx_mux_free(struct bx_mux *m);

/* Feed received bytes. Returns 0, or -1 on a protocol error (the link is then dead). */
int bx_mux_input(struct bx_mux *m, const void *buf, size_t len, struct bx_err *err);

/* Outgoing bytes waiting to be written: pointer + length; then consume what was written. */
const uint8_t *bx_mux_out_peek(struct bx_mux *m, size_t *len);
void bx_mux_out_consume(struct bx_mux *m, size_t n);
size_t bx_mux_out_pending(const struct bx_mux *m);
/* Backpressure (see BX_MUX_OUT_HIGH): true while the owner should stop
 * reading the peer, because the peer is not reading what we queued for it. */
bool bx_mux_input_paused(const struct bx_mux *m);

/* Open a channel to `port`; returns the channel or NULL (err filled) if none is free. */
struct bx_chan *bx_mux_open(struct bx_mux *m, uint32_t port, struct bx_err *err);
/* Bytes bx_mux_send would accept on c now: its credit, and nothing while the
 * output queue holds BX_MUX_OUT_HIGH or more (owners read their sources only
 * while this is non-zero, so a peer that does not read stalls them). */
size_t bx_mux_send_room(const struct bx_mux *m, const struct bx_chan *c);
/* Queue up to len bytes as DATA frames, limited by bx_mux_send_room. Returns bytes accepted (maybe 0). */
size_t bx_mux_send(struct bx_mux *m, struct bx_chan *c, const void *buf, size_t len);
/* The application consumed n received bytes: return credit (batched). */
void bx_mux_consumed(struct bx_mux *m, struct bx_chan *c, size_t n);
void bx_mux_send_eof(struct bx_mux *m, struct bx_chan *c);
/* Close our side; the channel stays until the peer's CLOSE arrives (on_close fires then). */
void bx_mux_close(struct bx_mux *m, struct bx_chan *c);
struct bx_chan *bx_mux_chan(struct bx_mux *m, uint32_t id);

#endif
