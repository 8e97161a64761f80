/* Sessions: one process and the mux channel carrying its messages
 * (src/proto/msg.h). exec (4089) and pty (4090) sessions are created by the
 * host's OPEN and live until both the channel and the process are gone; the
 * main session (4091) exists from boot and is attached by the host later.
 *
 * Flow control, both ways:
 *  - output: a process's pipe is read only while its channel has send credit
 *    for a whole message and the port's queue is below BX_AGENT_OUT_HIGH, so
 *    unread output stays in the pipe and throttles that process alone;
 *  - input: STDIN payload is returned as credit (bx_mux_consumed) only once
 *    written to the process, so a process that does not read throttles only
 *    its own channel. Other bytes are credited as soon as they are parsed. */
#include "agent.h"
#include "pure/exec.h"
#include "pure/exec_defaults.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define READ_CHUNK 32768u

static struct bx_chan *chan_of(struct session *s)
{
	if (!s->chan_id)
		return NULL;
	struct bx_chan *c = bx_mux_chan(&s->ag->mux, s->chan_id);
	return c && c->user == s ? c : NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

struct session *session_new(struct agent *ag, enum sess_kind kind)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ag = ag;
	s->kind = kind;
	s->fd_in = s->fd_out = s->fd_err = -1;
	s->next = ag->sessions;
	ag->sessions = s;
	return s;
}

static void flush(struct session *s)
{
	struct bx_chan *c = chan_of(s);
	if (!c || bx_bytes_size(&s->out) == 0 || c->state != BX_CH_OPEN)
		return;
	bx_bytes_pop(&s->out, bx_mux_send(&s->ag->mux, c, bx_bytes_data(&s->out), bx_bytes_size(&s->out)));
}

/* The one out-of-memory policy (docs/ARCHITECTURE.md): the session that
 * needed the memory ends; the agent, main and other sessions go on. */
static void out_of_memory(struct session *s, const struct bx_err *err)
{
	agent_err("channel %u: %s: ending the session", s->chan_id, err->msg);
	struct bx_chan *c = chan_of(s);
	if (c && !s->closing) {
		bx_mux_close(&s->ag->mux, c);
		s->closing = true;
	}
}

void session_send_msg(struct session *s, uint8_t kind, const void *payload, size_t len)
{
	struct bx_err err;
	uint8_t *at = bx_bytes_reserve(&s->out, BX_MSG_HDR_SIZE + len, &err);
	if (!at) {
		out_of_memory(s, &err);
		return;
	}
	bx_msg_encode_hdr(at, kind, (uint32_t)len);
	if (len)
		memcpy(at + BX_MSG_HDR_SIZE, payload, len);
	bx_bytes_commit(&s->out, BX_MSG_HDR_SIZE + len);
	flush(s);
}

static void send_i32(struct session *s, uint8_t kind, int32_t v)
{
	uint8_t b[4];
	bx_put_u32(b, (uint32_t)v);
	session_send_msg(s, kind, b, sizeof(b));
}

/* A failed start: the message goes into the process's error stream (Docker
 * prints it there); ERROR too, so the host can tell a refused start from a
 * program's own output without printing it twice (for main, the shim hands
 * it to a `run -d` or `start` waiting for main to run). */
static void report_start_failure(struct session *s, const struct bx_err *e, bool pty)
{
	char line[1100];
	int n = snprintf(line, sizeof(line), "boxvm: %s%s", e->msg, pty ? "\r\n" : "\n");
	if (n < 0)
		return;
	session_send_msg(s, BX_M_ERROR, e->msg, strlen(e->msg));
	session_send_msg(s, pty ? BX_M_STDOUT : BX_M_STDERR, line, (size_t)n);
}

void session_start(struct session *s, const struct bx_spec *spec)
{
	bool pty = s->kind == SESS_PTY || (s->kind == SESS_MAIN && spec->tty);
	struct spawn_result r;
	struct bx_err e = {0};
	s->pty = pty;
	s->build_step = s->kind != SESS_MAIN && spec->build_step;
	if (agent_spawn(s, spec, pty, &r, &e) < 0) {
		agent_err("start %s: %s", spec->args && spec->args[0] ? spec->args[0] : "?", e.msg);
		report_start_failure(s, &e, pty);
		s->started = true;
		s->exited = true;
		s->code = e.exit_code ? e.exit_code : BX_EXIT_ERROR;
		return;
	}
	s->fd_in = r.fd_in;
	s->fd_out = r.fd_out;
	s->fd_err = r.fd_err;
	if (spec->timeout_ms)
		s->deadline_ms = agent_now_ms() + spec->timeout_ms;
	if (r.failed) {
		/* the child is exiting with r.err.exit_code; the reaper records it */
		agent_info("start %s: %s", spec->args[0], r.err.msg);
		report_start_failure(s, &r.err, pty);
	} else {
		agent_info("started %s as pid %d", spec->args[0], (int)r.pid);
		/* for main too: `run -d` and `start` return on it (Running from then) */
		send_i32(s, BX_M_STARTED, r.pid);
	}
}

void session_kill(struct session *s, int sig)
{
	if (s->pid <= 0)
		return; /* reaped: the pid may belong to someone else now */
	/* the process leads its own session and group (setsid) */
	if (kill(-s->pid, sig) < 0)
		kill(s->pid, sig);
}

void session_signal(struct session *s, int sig)
{
	/* main: the process alone, as Docker signals a container's PID 1 (kill,
	 * stop, run's proxied signals); a shell's children do not see it, and
	 * they end with main anyway (session_exited). An exec's command keeps
	 * getting the client's INT/TERM... as its group: its children would
	 * otherwise hold its output open after it died. A terminal's Ctrl-C
	 * reaches the foreground group through the pty, not through here. */
	if (s->kind != SESS_MAIN) {
		session_kill(s, sig);
		return;
	}
	if (s->pid > 0)
		kill(s->pid, sig);
}

static void consumed(struct session *s, size_t n)
{
	struct bx_chan *c = chan_of(s);
	if (c && n)
		bx_mux_consumed(&s->ag->mux, c, n);
}

static void drop_stdin(struct session *s)
{
	consumed(s, s->ilen - s->ioff);
	s->ilen = s->ioff = 0;
	if (!s->pty || s->exited)
		close_fd(&s->fd_in);
}

void session_exited(struct session *s, int status)
{
	s->pid = 0;
	s->exited = true;
	s->code = bx_exit_code_from_status(status);
	s->deadline_ms = 0;
	agent_info("%s process exited with %d", s->kind == SESS_MAIN ? "main" : "session", s->code);
	drop_stdin(s);
	if (s->kind == SESS_MAIN) {
		/* The box ends with its main process, as a container's PID namespace
		 * does: whatever it left behind is killed, so held pipes close. */
		kill(-1, SIGKILL);
	} else if (s->build_step) {
		/* a build's RUN ends as Docker's RUN container does, before its
		 * exit is told: nothing of it writes into the next step's layer */
		agent_kill_leftovers(s->ag);
	}
}

bool session_wants_output(const struct session *s)
{
	struct bx_chan *c = chan_of((struct session *)s);
	return c && c->state == BX_CH_OPEN && bx_bytes_size(&s->out) == 0 && c->send_credit > BX_MSG_HDR_SIZE &&
	       bx_mux_out_pending(&s->ag->mux) < BX_AGENT_OUT_HIGH;
}

void session_read_output(struct session *s, int fd)
{
	struct bx_chan *c = chan_of(s);
	if (!c)
		return;
	size_t room = c->send_credit - BX_MSG_HDR_SIZE;
	if (room > READ_CHUNK)
		room = READ_CHUNK;
	uint8_t buf[BX_MSG_HDR_SIZE + READ_CHUNK];
	ssize_t n = read(fd, buf + BX_MSG_HDR_SIZE, room);
	int *slot = fd == s->fd_out ? &s->fd_out : &s->fd_err;
	if (n > 0) {
		uint8_t kind = slot == &s->fd_out ? BX_M_STDOUT : BX_M_STDERR;
		bx_msg_encode_hdr(buf, kind, (uint32_t)n);
		/* the credit covers the whole message: it goes out in one piece */
		size_t sent = bx_mux_send(&s->ag->mux, c, buf, BX_MSG_HDR_SIZE + (size_t)n);
		if (sent < BX_MSG_HDR_SIZE + (size_t)n) {
			/* the port's queue reached BX_MUX_OUT_HIGH since the poll (the
			 * mux holds DATA back then): keep the rest for flush() */
			size_t rest = BX_MSG_HDR_SIZE + (size_t)n - sent;
			struct bx_err err;
			if (bx_bytes_push(&s->out, buf + sent, rest, &err) < 0)
				out_of_memory(s, &err);
		}
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		/* a pty has no EOF while others hold the slave: once the process
		 * has exited, an empty master means its output is drained */
		if (s->exited && s->pty)
			close_fd(slot);
		return;
	}
	/* EOF, or EIO from a pty master whose slave is gone */
	close_fd(slot);
}

void session_write_stdin(struct session *s)
{
	while (s->fd_in >= 0 && s->ioff < s->ilen) {
		ssize_t n = write(s->fd_in, s->ibuf + s->ioff, s->ilen - s->ioff);
		if (n > 0) {
			s->ioff += (size_t)n;
			consumed(s, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		drop_stdin(s); /* EPIPE: the process closed its stdin */
		return;
	}
	if (s->ioff == s->ilen)
		s->ilen = s->ioff = 0;
	if (s->stdin_eof && s->fd_in >= 0 && s->ilen == 0) {
		if (s->pty) {
			/* a terminal has no half close: send its EOF character */
			struct termios t;
			char eof = tcgetattr(s->fd_in, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
			ssize_t w = write(s->fd_in, &eof, 1);
			(void)w;
			s->stdin_eof = false;
		} else {
			close_fd(&s->fd_in);
		}
	}
}

static void queue_stdin(struct session *s, const uint8_t *p, size_t len)
{
	if (s->fd_in < 0 || s->exited) {
		consumed(s, len);
		return;
	}
	if (s->ioff) {
		memmove(s->ibuf, s->ibuf + s->ioff, s->ilen - s->ioff);
		s->ilen -= s->ioff;
		s->ioff = 0;
	}
	uint8_t *nb = realloc(s->ibuf, s->ilen + len);
	if (!nb) {
		consumed(s, len);
		return;
	}
	s->ibuf = nb;
	memcpy(s->ibuf + s->ilen, p, len);
	s->ilen += len;
	session_write_stdin(s);
}

static void protocol_error(struct session *s, const char *what)
{
	agent_err("channel %u: %s", s->chan_id, what);
	if (!s->started) {
		session_send_msg(s, BX_M_ERROR, what, strlen(what));
		s->started = s->exited = true;
		s->code = BX_EXIT_ERROR;
	}
}

static void handle_msg(struct session *s, const struct bx_msg *m)
{
	if (s->kind != SESS_MAIN && !s->started && !s->ping) {
		if (m->kind == BX_M_PING) {
			s->ping = true;
			session_send_msg(s, BX_M_PONG, NULL, 0);
			return;
		}
		if (m->kind == BX_M_STATS) {
			struct bx_guest_stats st;
			uint8_t payload[BX_STATS_SIZE];
			struct bx_err err;
			if (agent_stats_collect(s->ag, &st, &err) < 0) {
				out_of_memory(s, &err); /* the host sees the channel close: no figures */
				return;
			}
			s->ping = true;
			session_send_msg(s, BX_M_STATS_REPLY, payload, bx_stats_encode(&st, payload));
			return;
		}
		if (m->kind == BX_M_NETCFG) {
			/* answered with the outcome, then closed like a PING */
			struct bx_err err = {0};
			int rc = agent_net_change((const char *)m->payload, m->len, &err);
			if (rc < 0)
				agent_err("network change: %s", err.msg);
			s->ping = true;
			session_send_msg(s, BX_M_NETCFG, rc < 0 ? err.msg : "", rc < 0 ? strlen(err.msg) : 0);
			return;
		}
		if (m->kind == BX_M_LIMIT) {
			/* answered with the outcome, then closed like a PING */
			struct bx_err err = {0};
			int rc = agent_limit_set(s->ag, (const char *)m->payload, m->len, &err);
			if (rc < 0)
				agent_err("limit: %s", err.msg);
			s->ping = true;
			session_send_msg(s, BX_M_LIMIT, rc < 0 ? err.msg : "", rc < 0 ? strlen(err.msg) : 0);
			return;
		}
		if (m->kind == BX_M_CLAIM) {
			/* a pool VM's box: answered with the outcome, then closed like a PING */
			struct bx_err err = {0};
			int rc = agent_claim(s->ag, m->payload, m->len, &err);
			s->ping = true;
			session_send_msg(s, BX_M_CLAIM, rc < 0 ? err.msg : "", rc < 0 ? strlen(err.msg) : 0);
			return;
		}
		if (m->kind != BX_M_REQ) {
			protocol_error(s, "expected PING, STATS, NETCFG, LIMIT, CLAIM or REQ first");
			return;
		}
		if (s->ag->pool_wait) {
			protocol_error(s, "no box yet: this pool VM has not been claimed");
			return;
		}
#ifdef BOXVM_TEST_HOOKS
		if (s->ag->hostile == HOSTILE_ERROR_CTRL) {
			/* a refusal whose text would drive the user's terminal; no EXIT,
			 * so the client reports the ERROR itself */
			session_send_msg(s, BX_M_ERROR, agent_hostile_text, strlen(agent_hostile_text));
			s->ping = true; /* no process: closed once the ERROR is out */
			s->exit_queued = true;
			return;
		}
#endif
		struct bx_spec spec;
		struct bx_err e = {0};
		bx_spec_init(&spec);
		if (bx_spec_decode(&spec, m->payload, m->len, &e) < 0) {
			bx_spec_free(&spec);
			char msg[1100];
			snprintf(msg, sizeof(msg), "bad request: %s", e.msg);
			protocol_error(s, msg);
			return;
		}
		/* an exact (OCI) process inherits nothing of its box but, as under
		 * runc, the container's seccomp filter */
		if ((spec.exact && !spec.nseccomp &&
		     bx_spec_set_seccomp(&spec, s->ag->box.seccomp, s->ag->box.nseccomp, &e) < 0) ||
		    (!spec.exact && bx_exec_apply_box_defaults(&spec, &s->ag->box, &e) < 0)) {
			bx_spec_free(&spec);
			protocol_error(s, e.msg);
			return;
		}
		session_start(s, &spec);
		bx_spec_free(&spec);
		return;
	}
	switch (m->kind) {
	case BX_M_STDIN_EOF:
		s->stdin_eof = true;
		session_write_stdin(s);
		break;
	case BX_M_SIGNAL:
		if (m->len >= 4)
			session_signal(s, (int)bx_get_u32(m->payload));
		break;
	case BX_M_RESIZE:
		if (m->len >= 4 && s->pty && s->fd_in >= 0) {
			struct winsize ws = {.ws_row = bx_get_u16(m->payload), .ws_col = bx_get_u16(m->payload + 2)};
			ioctl(s->fd_in, TIOCSWINSZ, &ws);
		}
		break;
	case BX_M_EXIT_ACK:
		if (s->kind == SESS_MAIN && s->exit_queued)
			s->ag->main_acked = true;
		break;
	case BX_M_PING: /* a heartbeat on a busy channel: harmless */
		break;
	case BX_M_TIME:
		if (s->kind != SESS_MAIN) {
			agent_err("channel %u: TIME outside the main channel", s->chan_id);
			break;
		}
		agent_clock_sync(m->payload, m->len);
		/* the host sends TIME first on the main channel: main starts on
		 * the host's clock (a malformed one still starts it, on ours) */
#ifdef BOXVM_TEST_HOOKS
		if (s->ag->hostile == HOSTILE_MUTE_MAIN)
			break;
#endif
		if (!s->started)
			session_start(s, &s->ag->box);
		break;
	default:
		agent_err("channel %u: unexpected message kind %u", s->chan_id, m->kind);
		break;
	}
}

/* Feed channel bytes through the message parser (see struct session). */
static void on_data(struct bx_mux *m, struct bx_chan *c, const uint8_t *buf, size_t len)
{
	if (agent_podnet_port(c->port)) {
		agent_podnet_on_data(m->user, c, buf, len);
		return;
	}
	struct session *s = c->user;
	while (len > 0 && s && c->user == s && !s->closing) {
		if (s->cur_left == 0 && s->hdr_have < BX_MSG_HDR_SIZE) {
			size_t n = BX_MSG_HDR_SIZE - s->hdr_have;
			if (n > len)
				n = len;
			memcpy(s->hdr + s->hdr_have, buf, n);
			s->hdr_have += n;
			buf += n;
			len -= n;
			bx_mux_consumed(m, c, n);
			if (s->hdr_have < BX_MSG_HDR_SIZE)
				return;
			s->cur_kind = s->hdr[0];
			s->cur_left = bx_get_u32(s->hdr + 1);
			s->msg_len = 0;
			if (s->cur_kind == 0 || s->cur_kind > BX_M_KIND_MAX || s->cur_left > BX_MSG_MAX) {
				protocol_error(s, "malformed message");
				bx_mux_close(m, c);
				s->closing = true;
				return;
			}
			if (s->cur_left == 0 || s->cur_kind != BX_M_STDIN) {
				uint8_t *nm = s->cur_left > 0 ? realloc(s->msg, s->cur_left) : s->msg;
				if (s->cur_left > 0 && !nm) {
					struct bx_err err;
					bx_fail(&err, ENOMEM, "cannot hold a message of %u bytes", s->cur_left);
					out_of_memory(s, &err);
					return;
				}
				s->msg = nm;
			}
		} else {
			size_t n = s->cur_left < len ? s->cur_left : len;
			if (s->cur_kind == BX_M_STDIN) {
				/* credited as the process actually reads it */
				queue_stdin(s, buf, n);
			} else {
				memcpy(s->msg + s->msg_len, buf, n);
				s->msg_len += n;
				bx_mux_consumed(m, c, n);
			}
			buf += n;
			len -= n;
			s->cur_left -= (uint32_t)n;
		}
		if (s->hdr_have == BX_MSG_HDR_SIZE && s->cur_left == 0) {
			s->hdr_have = 0;
			if (s->cur_kind != BX_M_STDIN) {
				struct bx_msg msg = {.kind = s->cur_kind, .len = (uint32_t)s->msg_len, .payload = s->msg};
				handle_msg(s, &msg);
			}
		}
	}
	if (len > 0)
		bx_mux_consumed(m, c, len);
}

static int on_open(struct bx_mux *m, struct bx_chan *c)
{
	struct agent *ag = m->user;
	struct session *s;
	if (agent_podnet_port(c->port))
		return agent_podnet_on_open(ag, c);
	switch (c->port) {
	case BX_PORT_EXEC:
	case BX_PORT_PTY:
		s = session_new(ag, c->port == BX_PORT_PTY ? SESS_PTY : SESS_EXEC);
		if (!s)
			return ENOMEM;
		break;
	case BX_PORT_MAIN:
		s = ag->main;
		if (!s || s->chan_id)
			return EBUSY; /* one attachment at a time */
		/* a fresh stream of host messages for this attachment */
		s->hdr_have = 0;
		s->cur_left = 0;
		s->msg_len = 0;
		break;
	default:
		return ECONNREFUSED;
	}
	s->chan_id = c->id;
	s->closing = false;
	c->user = s;
	agent_info("channel %u opened to port %u", c->id, c->port);
	return 0;
}

static void on_eof(struct bx_mux *m, struct bx_chan *c)
{
	if (agent_podnet_port(c->port)) {
		agent_podnet_on_eof(m->user, c);
		return;
	}
	struct session *s = c->user;
	if (s && s->started) {
		s->stdin_eof = true;
		session_write_stdin(s);
	}
}

static void on_close(struct bx_mux *m, struct bx_chan *c)
{
	if (agent_podnet_port(c->port)) {
		agent_podnet_on_close(m->user, c);
		return;
	}
	struct session *s = c->user;
	c->user = NULL;
	if (!s)
		return;
	agent_info("channel %u closed", c->id);
	/* stdin bytes still buffered were already counted; no credit to return */
	s->ilen = s->ioff = 0;
	s->chan_id = 0;
	if (s->kind == SESS_MAIN) {
		if (s->exit_queued && bx_bytes_size(&s->out) == 0)
			s->ag->main_acked = true; /* closed after EXIT: as good as EXIT_ACK */
		/* else: detached; main keeps running and its output waits in the pipes */
		return;
	}
	if (!s->exited) {
		/* the host is gone: leave nothing behind */
		session_kill(s, SIGKILL);
		close_fd(&s->fd_in);
	}
	close_fd(&s->fd_out);
	close_fd(&s->fd_err);
	/* freed by the loop (session_maybe_free), never inside a mux callback */
}

/* the agent opens channels for the pod's port following only */
static void on_open_result(struct bx_mux *m, struct bx_chan *c, int errnum)
{
	agent_podnet_on_open_result(m->user, c, errnum);
}

const struct bx_mux_ops agent_mux_ops = {
	.on_open = on_open,
	.on_open_result = on_open_result,
	.on_data = on_data,
	.on_eof = on_eof,
	.on_close = on_close,
};

void session_progress(struct session *s)
{
	struct bx_chan *c = chan_of(s);
	if (!c)
		return;
	flush(s);
	if (s->ping && bx_bytes_size(&s->out) == 0 && !s->closing) {
		bx_mux_close(&s->ag->mux, c);
		s->closing = true;
		return;
	}
	if (s->exited && s->fd_out < 0 && s->fd_err < 0 && !s->exit_queued) {
		s->exit_queued = true;
		send_i32(s, BX_M_EXIT, s->code);
		agent_info("sent EXIT %d on channel %u", s->code, s->chan_id);
	}
	if (s->kind != SESS_MAIN && s->exit_queued && bx_bytes_size(&s->out) == 0 && !s->closing) {
		bx_mux_close(&s->ag->mux, c);
		s->closing = true;
	}
}

void session_maybe_free(struct session *s)
{
	if (s->kind == SESS_MAIN || s->chan_id || s->pid > 0)
		return;
	struct session **pp = &s->ag->sessions;
	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
	close_fd(&s->fd_in);
	close_fd(&s->fd_out);
	close_fd(&s->fd_err);
	free(s->msg);
	bx_bytes_free(&s->out);
	free(s->ibuf);
	free(s);
}
