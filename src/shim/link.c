/* The host end of the mux on ctl.sock: the main channel (4091), the readiness
 * heartbeat (PING/PONG on 4089), the guest's clock (TIME) and the handling of
 * main's messages. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/safetext.h"
#include "../proto/frame.h"
#include "shim.h"

#define RETRY_MS 500
/* ERROR messages from the guest written to shim.log per boot: a real agent
 * sends one at most; a hostile one could otherwise grow the log without end */
#define GUEST_ERRORS_LOGGED_MAX 16

static struct bx_chan *main_chan(struct shim *s)
{
	return s->main_id ? bx_mux_chan(&s->mux, s->main_id) : NULL;
}

static int on_open(struct bx_mux *m, struct bx_chan *c)
{
	/* the host offers the guest one service: a pod's loopback (podnet.c) */
	return shim_podnet_owns(c) ? shim_podnet_on_open(m->user, c) : ECONNREFUSED;
}

static void on_open_result(struct bx_mux *m, struct bx_chan *c, int errnum)
{
	struct shim *s = m->user;
	if (shim_podnet_owns(c)) {
		shim_podnet_on_open_result(s, c, errnum);
		return;
	}
	if (shim_health_owns(s, c)) {
		shim_health_on_open_result(s, c, errnum);
		return;
	}
	if (c->user) {
		shim_exec_on_open_result(s, c, errnum);
		return;
	}
	if (c->id == s->claim_id) {
		if (errnum)
			shim_event(s, SHIM_EV_LINK_ERROR, &(struct shim_ev_arg){.msg = "the pool VM refused the claim"});
		else
			shim_pool_claim_flush(s);
		return;
	}
	if (c->id == s->hb_id && errnum) {
		/* exec service not bound yet: try again shortly */
		s->hb_id = 0;
		s->hb_next_ms = bx_mono_ms() + RETRY_MS;
	} else if (c->id == s->main_id) {
		if (errnum) {
			shim_log(s, false, "main channel refused (%s); retrying", strerror(errnum));
			s->main_id = 0;
			s->main_retry_ms = bx_mono_ms() + RETRY_MS;
		} else {
			s->main_open = true;
			s->main_activity = true;
			/* the agent spawns main on the first TIME: it goes before
			 * anything main_out holds (stdin), stamped now, not when the
			 * channel was asked for while the guest was still booting */
			shim_link_send_time(s);
		}
	}
}

static void take_held_started(struct shim *s);

static void note_ready(struct shim *s, const char *how)
{
	if (s->ready_logged)
		return;
	s->ready_logged = true;
	shim_log(s, true, "box %.12s ready after %lld ms (%s)", s->spec.id, bx_mono_ms() - s->t0_ms, how);
}

static void on_data(struct bx_mux *m, struct bx_chan *c, const uint8_t *buf, size_t len)
{
	struct shim *s = m->user;
	if (shim_podnet_owns(c)) {
		shim_podnet_on_data(s, c, buf, len);
		return;
	}
	if (shim_health_owns(s, c)) {
		shim_health_on_data(s, c, buf, len);
		return;
	}
	if (c->user) {
		shim_exec_on_data(s, c, buf, len);
		return;
	}
	if (c->id == s->claim_id) {
		struct bx_err err;
		struct bx_msg msg;
		bx_mux_consumed(m, c, len);
		/* bounded: a message is at most BX_MSG_MAX, and one is all we take */
		int r = bx_msgbuf_append(&s->claim_in, buf, len, &err) < 0 ? -1 : bx_msgbuf_next(&s->claim_in, &msg, &err);
		if (r < 0) {
			shim_event(s, SHIM_EV_LINK_ERROR, &(struct shim_ev_arg){.msg = "protocol error in the pool VM's claim"});
			return;
		}
		if (r == 0)
			return; /* more to come */
		if (msg.kind != BX_M_CLAIM) {
			shim_event(s, SHIM_EV_LINK_ERROR, &(struct shim_ev_arg){.msg = "the pool VM answered its claim with another message"});
			return;
		}
		shim_pool_claim_answer(s, msg.payload, msg.len);
		bx_msgbuf_free(&s->claim_in);
		return;
	}
	if (c->id == s->hb_id) {
		if (len && buf[0] == BX_M_PONG && !s->hb_pong) {
			s->hb_pong = true;
			note_ready(s, "heartbeat");
		}
		bx_mux_consumed(m, c, len);
	} else if (c->id == s->main_id) {
		s->main_activity = true;
		struct bx_err err;
		if (bx_msgbuf_append(&s->main_in, buf, len, &err) < 0) {
			shim_log(s, true, "main channel: %s", err.msg);
			shim_event(s, SHIM_EV_LINK_ERROR, &(struct shim_ev_arg){.msg = "protocol error on the main channel"});
		}
		take_held_started(s);
		/* credit is returned as the client takes the bytes (shim_process_main),
		 * so main_in never holds more than the channel's window (256 KiB)
		 * whatever the guest sends: the mux refuses DATA beyond it */
	} else {
		bx_mux_consumed(m, c, len);
	}
}

static void on_eof(struct bx_mux *m, struct bx_chan *c)
{
	if (shim_podnet_owns(c))
		shim_podnet_on_eof(m->user, c);
}

static void on_close(struct bx_mux *m, struct bx_chan *c)
{
	struct shim *s = m->user;
	if (shim_podnet_owns(c)) {
		shim_podnet_on_close(s, c);
		return;
	}
	if (shim_health_owns(s, c)) {
		shim_health_on_close(s, c);
		return;
	}
	if (c->user) {
		shim_exec_on_close(s, c);
		return;
	}
	if (c->id == s->claim_id) {
		s->claim_id = 0;
		shim_event(s, SHIM_EV_LINK_ERROR, &(struct shim_ev_arg){.msg = "the pool VM closed its claim unanswered"});
		return;
	}
	if (c->id == s->hb_id) {
		s->hb_id = 0;
		if (!s->hb_pong)
			s->hb_next_ms = bx_mono_ms() + RETRY_MS;
	} else if (c->id == s->main_id) {
		shim_log(s, !shim_ending(s), "the guest closed the main channel");
		s->main_open = false;
		s->main_id = 0;
	}
}

static void on_credit(struct bx_mux *m, struct bx_chan *c)
{
	struct shim *s = m->user;
	if (c->id == s->main_id)
		shim_main_flush(s);
	if (c->id == s->claim_id)
		shim_pool_claim_flush(s);
}

static const struct bx_mux_ops ops = {
	.on_open = on_open,
	.on_open_result = on_open_result,
	.on_data = on_data,
	.on_eof = on_eof,
	.on_close = on_close,
	.on_credit = on_credit,
};

void shim_link_init(struct shim *s)
{
	bx_mux_init(&s->mux, true, &ops, s);
	bx_msgbuf_init(&s->main_in);
	s->link_pause_noted = false;
	s->guest_errors_logged = 0;
}

int shim_link_open_main(struct shim *s, struct bx_err *err)
{
	struct bx_chan *c = bx_mux_open(&s->mux, BX_PORT_MAIN, err);
	if (!c)
		return -1;
	s->main_id = c->id;
	s->main_retry_ms = 0;
	s->time_sent = false;
	s->time_due_ms = 0;
	return 0;
}

/* TIME goes straight onto the channel, whole, at a message boundary: the
 * first one before anything of main_out (held until then, whatever the
 * client queued meanwhile), later ones only once main_out is empty, and only
 * with credit for all of it. Otherwise it stays due and the tick tries again:
 * a TIME queued behind stdin main is not reading would arrive stale and set
 * the guest's clock back. Never while frozen: it would wait in the socket and
 * arrive stale after the unpause. */
static void send_time_if_due(struct shim *s, long long now)
{
	struct bx_chan *c = main_chan(s);
	if (!s->time_due_ms || now < s->time_due_ms || !c || c->state != BX_CH_OPEN || shim_fsm_frozen(s->state) ||
	    (s->time_sent && bx_bytes_size(&s->main_out)))
		return;
	/* BOXVM_TEST_HOLD_MAIN (a test knob, src/shim/README.md): the booted
	 * guest waits for main's start until that file exists (ticks recheck) */
	if (!s->time_sent && s->test_hold_main && access(s->test_hold_main, F_OK) != 0)
		return;
	if (!s->time_sent && s->main_held) /* vm.json's hold_main: until SIGUSR2 value 2 */
		return;
	uint8_t msg[BX_MSG_HDR_SIZE + BX_MSG_TIME_SIZE];
	if (bx_mux_send_room(&s->mux, c) < sizeof(msg))
		return;
	bx_msg_encode_hdr(msg, BX_M_TIME, BX_MSG_TIME_SIZE);
	bx_msg_time_encode(msg + BX_MSG_HDR_SIZE, bx_real_ns());
	bx_mux_send(&s->mux, c, msg, sizeof(msg));
	s->time_due_ms = now + BX_TIME_RESYNC_MS;
	if (!s->time_sent) {
		s->time_sent = true;
		shim_main_flush(s); /* what the client queued waited for this one */
	}
}

void shim_link_send_time(struct shim *s)
{
	if (!main_chan(s))
		return;
	long long now = bx_mono_ms();
	s->time_due_ms = now;
	send_time_if_due(s, now); /* queued in the mux: the caller writes it out */
}

/* Right after connecting: the main channel first (the agent serves it once
 * up; the bytes wait in the socket meanwhile), then the first heartbeat. */
int shim_link_start(struct shim *s, struct bx_err *err)
{
	/* a pool VM has no main until a box claims it (pool.c) */
	if (!s->pooled && shim_link_open_main(s, err) < 0)
		return -1;
	s->hb_next_ms = bx_mono_ms();
	shim_link_tick(s, s->hb_next_ms);
	shim_link_writable(s);
	return 0;
}

void shim_link_tick(struct shim *s, long long now)
{
	if (shim_ending(s) || s->mux.dead)
		return;
	if (!s->main_id && s->main_retry_ms && now >= s->main_retry_ms) {
		struct bx_err err;
		if (shim_link_open_main(s, &err) < 0)
			shim_log(s, true, "cannot reopen the main channel: %s", err.msg);
	}
	send_time_if_due(s, now);
	/* one heartbeat outstanding at a time: an unanswered one is simply still
	 * queued behind a booting guest; retries follow a refusal. */
	if (!s->hb_pong && !s->hb_id && s->hb_next_ms && now >= s->hb_next_ms) {
		if (bx_mux_out_pending(&s->mux) >= BX_MUX_OUT_HIGH) {
			/* the PING could not be queued: ask again once the guest reads */
			s->hb_next_ms = now + RETRY_MS;
			return;
		}
		struct bx_err err;
		struct bx_chan *c = bx_mux_open(&s->mux, BX_PORT_EXEC, &err);
		s->hb_next_ms = 0;
		if (!c) {
			s->hb_next_ms = now + RETRY_MS;
			return;
		}
		s->hb_id = c->id;
		uint8_t ping[BX_MSG_HDR_SIZE];
		bx_msg_encode_hdr(ping, BX_M_PING, 0);
		bx_mux_send(&s->mux, c, ping, sizeof(ping));
	}
}

/* Backpressure (BX_MUX_OUT_HIGH): while the guest leaves what we queued for
 * it unread, we stop reading it, so whatever it sends waits in its own
 * queues, not in our memory. Noted once per boot: a hostile guest must not be
 * able to fill shim.log by toggling it. */
static bool link_paused(struct shim *s)
{
	if (!bx_mux_input_paused(&s->mux))
		return false;
	if (!s->link_pause_noted)
		shim_log(s, true, "the guest does not read the control port (%zu bytes queued for it): "
			 "not reading from it until it does", bx_mux_out_pending(&s->mux));
	s->link_pause_noted = true;
	return true;
}

void shim_link_readable(struct shim *s)
{
	uint8_t buf[65536];
	while (!link_paused(s)) {
		ssize_t n = read(s->ctl_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			s->ctl_eof = true;
			break;
		}
		if (s->mux.dead)
			continue; /* drain and drop */
		struct bx_err err;
		if (bx_mux_input(&s->mux, buf, (size_t)n, &err) < 0) {
			shim_log(s, true, "link: %s", err.msg);
			shim_event(s, SHIM_EV_LINK_ERROR, &(struct shim_ev_arg){.msg = err.msg});
		}
	}
	shim_process_main(s);
	shim_link_writable(s);
}

void shim_link_writable(struct shim *s)
{
	while (s->ctl_fd >= 0 && !s->ctl_eof) {
		size_t len;
		const uint8_t *p = bx_mux_out_peek(&s->mux, &len);
		if (!len)
			return;
		ssize_t n = write(s->ctl_fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				s->ctl_eof = true; /* QEMU is gone; its exit is handled via SIGCHLD */
			return;
		}
		bx_mux_out_consume(&s->mux, (size_t)n);
		if (bx_bytes_size(&s->main_out))
			shim_main_flush(s); /* held back while the queue was full (bx_mux_send_room) */
	}
}

/* Messages to main queue here and go out as credit allows. */
void shim_main_send(struct shim *s, uint8_t kind, const void *payload, uint32_t len)
{
	uint8_t hdr[BX_MSG_HDR_SIZE];
	bx_msg_encode_hdr(hdr, kind, len);
	struct bx_err err;
	/* a message to main that cannot be queued ends the session that sent it
	 * (stdin, signals and resizes come from the attached client) */
	if (bx_bytes_push(&s->main_out, hdr, sizeof(hdr), &err) < 0 || bx_bytes_push(&s->main_out, payload, len, &err) < 0)
		shim_client_fail(s, &err);
	shim_main_flush(s);
}

void shim_main_flush(struct shim *s)
{
	struct bx_chan *c = main_chan(s);
	/* held until the first TIME is out: main starts on it (see on_open_result) */
	if (!c || c->state != BX_CH_OPEN || !s->time_sent)
		return;
	while (bx_bytes_size(&s->main_out)) {
		size_t n = bx_mux_send(&s->mux, c, bx_bytes_data(&s->main_out), bx_bytes_size(&s->main_out));
		if (!n)
			break;
		bx_bytes_pop(&s->main_out, n);
	}
}

static void consume_main(struct shim *s, size_t n)
{
	struct bx_chan *c = main_chan(s);
	if (c && n)
		bx_mux_consumed(&s->mux, c, n);
}

/* main runs in the guest (what that changes is main.c's SHIM_A_STARTED) */
static void main_started(struct shim *s, const struct bx_msg *m)
{
	int pid = m->len >= 4 ? (int)bx_get_u32(m->payload) : -1;
	shim_event(s, SHIM_EV_MAIN_STARTED, &(struct shim_ev_arg){.value = pid});
}

/* Until a client attaches, main's messages stay where they are (its output
 * is held for it); STARTED, the first of them, is taken at once all the same:
 * a box is running whether or not anyone has attached yet. */
static void take_held_started(struct shim *s)
{
	if (s->ever_attached || s->main_started || bx_msgbuf_peek_kind(&s->main_in) != BX_M_STARTED)
		return;
	struct bx_msg m;
	if (bx_msgbuf_next(&s->main_in, &m, NULL) != 1)
		return;
	consume_main(s, BX_MSG_HDR_SIZE + m.len);
	main_started(s, &m);
}

/* Hand main's messages to the client one at a time; an output message is
 * written completely before the next one is taken, and credit goes back to
 * the guest only as bytes leave, so a slow client throttles the guest. Until
 * a client has attached nothing is taken at all. */
void shim_process_main(struct shim *s)
{
	while (s->ever_attached) {
		if (bx_bytes_size(&s->pend)) {
			size_t before = bx_bytes_size(&s->pend);
			shim_output_writable(s);
			consume_main(s, before - bx_bytes_size(&s->pend));
			if (bx_bytes_size(&s->pend))
				break;
		}
		struct bx_msg m;
		struct bx_err err;
		int r = bx_msgbuf_next(&s->main_in, &m, &err);
		if (r < 0) {
			shim_log(s, true, "main channel: %s", err.msg);
			shim_event(s, SHIM_EV_LINK_ERROR, &(struct shim_ev_arg){.msg = "protocol error on the main channel"});
			break;
		}
		if (r == 0)
			break;
		consume_main(s, BX_MSG_HDR_SIZE);
		switch (m.kind) {
		case BX_M_STDOUT:
		case BX_M_STDERR:
			s->pend_stream = m.kind == BX_M_STDERR;
			shim_lc_output(s, s->pend_stream, m.payload, m.len);
			if (bx_bytes_push(&s->pend, m.payload, m.len, &err) < 0) {
				consume_main(s, m.len); /* in the json log already */
				shim_client_fail(s, &err);
			}
			break;
		case BX_M_EXIT: {
			int32_t code = m.len >= 4 ? (int32_t)bx_get_u32(m.payload) : BX_EXIT_ERROR;
			consume_main(s, m.len);
			shim_main_send(s, BX_M_EXIT_ACK, NULL, 0);
			shim_link_writable(s);
			note_ready(s, "main exited");
			shim_event(s, SHIM_EV_MAIN_EXIT, &(struct shim_ev_arg){.code = code});
			break;
		}
		case BX_M_ERROR:
			/* before STARTED: why main could not start, for the CLI waiting on it */
			if (!s->main_started && !s->start_error[0])
				bx_safe_text(s->start_error, sizeof(s->start_error), m.payload,
					     m.len < BX_MSG_ERROR_TEXT_MAX ? m.len : BX_MSG_ERROR_TEXT_MAX);
			/* the agent writes the same text to main's stderr stream; shim_log
			 * makes the guest's text safe for the log (src/common/safetext.h),
			 * and only the first few are kept: a guest must not fill the disk */
			if (s->guest_errors_logged < GUEST_ERRORS_LOGGED_MAX) {
				s->guest_errors_logged++;
				shim_log(s, true, "guest: %.*s%s",
					 (int)(m.len < BX_MSG_ERROR_TEXT_MAX ? m.len : BX_MSG_ERROR_TEXT_MAX),
					 (const char *)m.payload,
					 s->guest_errors_logged == GUEST_ERRORS_LOGGED_MAX ? " (further guest errors are not logged)" : "");
			}
			consume_main(s, m.len);
			break;
		case BX_M_STARTED:
			main_started(s, &m);
			consume_main(s, m.len);
			break;
		case BX_M_OOM: /* the guest's own report: bounded by shim_lc_oom */
			consume_main(s, m.len);
			shim_lc_oom(s);
			break;
		default:
			consume_main(s, m.len);
			break;
		}
	}
	shim_link_writable(s);
}
