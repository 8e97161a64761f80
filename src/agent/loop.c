/* The agent's one poll loop: the control port, the signalfd and every
 * session's fds. Nothing here blocks: all fds are non-blocking. */
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../proto/ending.h"

/* The host end is not connected: the port reads EOF and polls as hung up,
 * so it is left out of the poll set and retried after this long. */
#define VPORT_RETRY_MS 20

/* Main reported and the host acknowledged: the box ends. An exec session
 * still open then (its process exited, or was killed with main's, and its
 * last output and EXIT are on the way) is told first: the power goes off
 * once the host has closed every session's channel -- its CLOSE answers
 * ours, sent after the EXIT -- or after this long, for a client that does
 * not read (its session cannot send the rest): within the shim's wait for the
 * power-off (proto/ending.h). */
#define EXEC_LINGER_MS BX_EXEC_LINGER_MS

enum slot_kind { SLOT_VPORT, SLOT_SIG, SLOT_KMSG, SLOT_OUT, SLOT_ERR, SLOT_IN, SLOT_PODNET };

struct slot {
	enum slot_kind kind;
	struct session *s;
};

static void read_vport(struct agent *ag)
{
	uint8_t buf[65536];
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(ag->vport_fd, buf, sizeof(buf));
		if (n > 0) {
			if (!ag->host_connected)
				agent_info("host connected");
			ag->host_connected = true;
			struct bx_err e = {0};
			if (bx_mux_input(&ag->mux, buf, (size_t)n, &e) < 0)
				agent_fatal("control channel: %s", e.msg);
			continue;
		}
		if (n == 0) {
			if (ag->host_connected)
				agent_info("host disconnected");
			ag->host_connected = false;
			ag->vport_retry_ms = agent_now_ms() + VPORT_RETRY_MS;
			return;
		}
		if (errno != EINTR && errno != EAGAIN)
			agent_err("read control port: %s", strerror(errno));
		return;
	}
}

static void write_vport(struct agent *ag)
{
	for (;;) {
		size_t len;
		const uint8_t *p = bx_mux_out_peek(&ag->mux, &len);
		if (!p || len == 0)
			return;
		ssize_t n = write(ag->vport_fd, p, len);
		if (n > 0) {
			bx_mux_out_consume(&ag->mux, (size_t)n);
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			agent_err("write control port: %s", strerror(errno));
		return;
	}
}

static void read_signals(struct agent *ag)
{
	struct signalfd_siginfo si;
	bool child = false;
	while (read(ag->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo == SIGCHLD)
			child = true;
	if (child)
		agent_reap(ag);
}

static bool exec_sessions_open(const struct agent *ag)
{
	for (const struct session *s = ag->sessions; s; s = s->next)
		if (s->kind != SESS_MAIN && s->chan_id)
			return true;
	return false;
}

static void maybe_power_off(struct agent *ag, uint64_t now)
{
	if (!ag->main_acked)
		return;
	if (!ag->poweroff_by_ms)
		ag->poweroff_by_ms = now + EXEC_LINGER_MS;
	bool open = exec_sessions_open(ag);
	if (open && now < ag->poweroff_by_ms)
		return;
	if (open)
		agent_info("main process reported; powering off with exec sessions still open after %d ms",
			   EXEC_LINGER_MS);
	else
		agent_info("main process reported; powering off");
	agent_poweroff();
}

static void progress_all(struct agent *ag, uint64_t now)
{
	struct session *next;
	for (struct session *s = ag->sessions; s; s = next) {
		next = s->next;
		if (s->deadline_ms && now >= s->deadline_ms) {
			agent_info("timeout: killing pid %d", (int)s->pid);
			session_kill(s, SIGKILL);
			s->deadline_ms = 0;
		}
		session_write_stdin(s);
		session_progress(s);
		session_maybe_free(s);
	}
}

void agent_loop(struct agent *ag)
{
	struct pollfd *pfd = NULL;
	struct slot *slots = NULL;
	size_t cap = 0;
	for (;;) {
		uint64_t now = agent_now_ms();
		progress_all(ag, now);
		maybe_power_off(ag, now);

		size_t need = 3 + agent_podnet_nfds(ag);
		for (struct session *s = ag->sessions; s; s = s->next)
			need += 3;
		if (need > cap) {
			cap = need * 2;
			pfd = realloc(pfd, cap * sizeof(*pfd));
			slots = realloc(slots, cap * sizeof(*slots));
			if (!pfd || !slots)
				agent_fatal("out of memory");
		}
		size_t n = 0;
		int timeout = -1;
#define ADD(fd_, ev_, kind_, s_)                                                                             \
	do {                                                                                                 \
		pfd[n] = (struct pollfd){.fd = (fd_), .events = (short)(ev_)};                              \
		slots[n] = (struct slot){.kind = (kind_), .s = (s_)};                                        \
		n++;                                                                                         \
	} while (0)
		ADD(ag->sig_fd, POLLIN, SLOT_SIG, NULL);
		if (ag->kmsg_fd >= 0)
			ADD(ag->kmsg_fd, POLLIN, SLOT_KMSG, NULL);
		uint64_t wake = 0;
		if (now < ag->serve_at_ms) {
			wake = ag->serve_at_ms; /* accept_delay_ms: the port waits */
		} else if (now < ag->vport_retry_ms) {
			wake = ag->vport_retry_ms;
		} else {
			short ev = POLLIN;
			if (bx_mux_out_pending(&ag->mux))
				ev |= POLLOUT;
			ADD(ag->vport_fd, ev, SLOT_VPORT, NULL);
		}
		for (struct session *s = ag->sessions; s; s = s->next) {
			if (session_wants_output(s)) {
				if (s->fd_out >= 0)
					ADD(s->fd_out, POLLIN, SLOT_OUT, s);
				if (s->fd_err >= 0)
					ADD(s->fd_err, POLLIN, SLOT_ERR, s);
			}
			if (s->fd_in >= 0 && s->ilen > s->ioff)
				ADD(s->fd_in, POLLOUT, SLOT_IN, s);
			if (s->deadline_ms && (!wake || s->deadline_ms < wake))
				wake = s->deadline_ms;
			/* a drained pty of an exited process has no EOF to wake us */
			if (s->pty && s->exited && s->fd_out >= 0 && session_wants_output(s))
				wake = now;
		}
#undef ADD
		size_t i_podnet = n, n_podnet = agent_podnet_poll_fill(ag, pfd + n, now, &wake);
		for (size_t k = 0; k < n_podnet; k++)
			slots[n++] = (struct slot){.kind = SLOT_PODNET};
		if (ag->poweroff_by_ms && (!wake || ag->poweroff_by_ms < wake))
			wake = ag->poweroff_by_ms;
		if (wake)
			timeout = wake > now ? (int)(wake - now) : 0;

		int r = poll(pfd, n, timeout);
		if (r < 0) {
			if (errno != EINTR)
				agent_err("poll: %s", strerror(errno));
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			struct session *s = slots[i].s;
			switch (slots[i].kind) {
			case SLOT_VPORT:
				if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
					read_vport(ag);
				if (pfd[i].revents & POLLOUT)
					write_vport(ag);
				break;
			case SLOT_SIG:
				read_signals(ag);
				break;
			case SLOT_KMSG:
				agent_oom_read(ag);
				break;
			case SLOT_PODNET:
				break; /* below, all at once */
			default:
				/* sessions are only freed in progress_all, so s is alive;
				 * skip an fd the handlers above closed meanwhile */
				if (slots[i].kind == SLOT_OUT && s->fd_out == pfd[i].fd)
					session_read_output(s, s->fd_out);
				else if (slots[i].kind == SLOT_ERR && s->fd_err == pfd[i].fd)
					session_read_output(s, s->fd_err);
				else if (slots[i].kind == SLOT_IN && s->fd_in == pfd[i].fd)
					session_write_stdin(s);
				break;
			}
		}
		agent_podnet_poll_handle(ag, pfd + i_podnet, n_podnet);
		/* queue what the handlers produced; the next poll waits for POLLOUT only if the port is full */
		if (agent_now_ms() >= ag->serve_at_ms && bx_mux_out_pending(&ag->mux))
			write_vport(ag);
	}
}
