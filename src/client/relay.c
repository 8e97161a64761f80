/* The client end of an interactive session: stdio as session messages (relay.h). */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/safetext.h"
#include "../proto/frame.h"
#include "../proto/msg.h"
#include "tty.h"

#define IN_CHUNK 32768
#define OUTQ_HIGH 65536 /* stop reading stdin while this much waits for the socket */

static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

struct relay {
	int sock;
	const struct bx_relay_opts *o;
	struct bx_bytes q;      /* messages to the socket not yet sent */
	bool failed;            /* a message could not be queued (fail says why): the relay ends */
	struct bx_err fail;
	bool in_open;
	struct bx_detach detach; /* the scanner's state (a copy of the options') */
	bool out_broken[2];     /* stdout/stderr failed (EPIPE): further output is dropped */
	bool got_exit, detached, have_error, started;
	int code, pid;
	char error[1024];
};

int bx_relay_send_msg(int sock, uint8_t kind, const void *payload, uint32_t len, struct bx_err *err)
{
	uint8_t hdr[BX_MSG_HDR_SIZE];
	bx_msg_encode_hdr(hdr, kind, len);
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)payload, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	size_t total = sizeof(hdr) + len, sent = 0;
	while (sent < total) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bx_fail(err, errno, "cannot send to the box's supervisor");
		sent += (size_t)n;
		/* advance the iovecs past what went out */
		size_t k = (size_t)n;
		while (k && mh.msg_iovlen) {
			if (k >= mh.msg_iov[0].iov_len) {
				k -= mh.msg_iov[0].iov_len;
				mh.msg_iov++;
				mh.msg_iovlen--;
			} else {
				mh.msg_iov[0].iov_base = (uint8_t *)mh.msg_iov[0].iov_base + k;
				mh.msg_iov[0].iov_len -= k;
				k = 0;
			}
		}
	}
	return 0;
}

static void queue_msg(struct relay *r, uint8_t kind, const void *payload, uint32_t len)
{
	if (r->failed)
		return;
	uint8_t *at = bx_bytes_reserve(&r->q, BX_MSG_HDR_SIZE + len, &r->fail);
	if (!at) { /* the one out-of-memory policy: this relay fails, with the reason */
		r->failed = true;
		return;
	}
	bx_msg_encode_hdr(at, kind, len);
	if (len)
		memcpy(at + BX_MSG_HDR_SIZE, payload, len);
	bx_bytes_commit(&r->q, BX_MSG_HDR_SIZE + len);
}

static void queue_i32(struct relay *r, uint8_t kind, int32_t v)
{
	uint8_t b[4];
	bx_put_u32(b, (uint32_t)v);
	queue_msg(r, kind, b, 4);
}

static void queue_resize(struct relay *r)
{
	uint16_t rows, cols;
	if (!r->o->tty || !bx_tty_size(r->o->tty_fd, &rows, &cols))
		return;
	uint8_t b[4];
	bx_put_u16(b, rows);
	bx_put_u16(b + 2, cols);
	queue_msg(r, BX_M_RESIZE, b, 4);
}

/* 0 ok or would block, -1 connection gone */
static int flush_queue(struct relay *r)
{
	while (bx_bytes_size(&r->q)) {
		ssize_t n = send(r->sock, bx_bytes_data(&r->q), bx_bytes_size(&r->q), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		bx_bytes_pop(&r->q, (size_t)n);
	}
	return 0;
}

/* input as typed: scanned for the detach keys on a terminal (len <= IN_CHUNK) */
static void queue_input(struct relay *r, const uint8_t *buf, size_t len)
{
	uint8_t fwd[IN_CHUNK + BX_DETACH_MAX];
	bool detach = false;
	size_t k = r->o->tty ? bx_detach_scan(&r->detach, buf, len, fwd, &detach) : (memcpy(fwd, buf, len), len);
	if (k)
		queue_msg(r, BX_M_STDIN, fwd, (uint32_t)k);
	if (detach)
		r->detached = true;
}

/* a service's client resized its terminal: the latest of the records waiting */
static void read_resizes(struct relay *r)
{
	uint8_t b[4 * 16];
	ssize_t n = read(r->o->svc->resize_fd, b, sizeof(b));
	if (n >= 4)
		queue_msg(r, BX_M_RESIZE, b + (n / 4 - 1) * 4, 4);
}

static void read_stdin(struct relay *r)
{
	uint8_t buf[IN_CHUNK], fwd[IN_CHUNK + BX_DETACH_MAX];
	ssize_t n = read(r->o->in_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	struct bx_detach *d = &r->detach;
	if (n <= 0) {
		size_t held = bx_detach_flush(d, fwd);
		if (held)
			queue_msg(r, BX_M_STDIN, fwd, (uint32_t)held);
		queue_msg(r, BX_M_STDIN_EOF, NULL, 0);
		r->in_open = false;
		return;
	}
	queue_input(r, buf, (size_t)n);
}

static void write_out(struct relay *r, int which, const uint8_t *p, size_t len)
{
	if (r->o->svc) {
		if (!r->out_broken[which] && r->o->svc->out(r->o->svc->ctx, which, p, len) < 0)
			r->out_broken[which] = true;
		return;
	}
	int fd = which ? r->o->err_fd : r->o->out_fd;
	while (len && !r->out_broken[which]) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			poll(&pf, 1, -1);
			continue;
		}
		if (n < 0) {
			r->out_broken[which] = true; /* e.g. `| head` went away: discard as a closed pipe would */
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* -1: connection ended */
static int read_sock(struct relay *r, struct bx_msgbuf *mb, struct bx_err *err)
{
	uint8_t buf[65536];
	ssize_t n = recv(r->sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	if (bx_msgbuf_append(mb, buf, (size_t)n, err) < 0)
		return -1;
	struct bx_msg m;
	int k;
	while (!r->got_exit && (k = bx_msgbuf_next(mb, &m, err)) > 0) {
		switch (m.kind) {
		case BX_M_STDOUT:
		case BX_M_STDERR:
			write_out(r, m.kind == BX_M_STDERR, m.payload, m.len);
			break;
		case BX_M_EXIT:
			if (m.len == 4) {
				r->code = (int32_t)bx_get_u32(m.payload);
				r->got_exit = true;
			}
			break;
		case BX_M_ERROR: /* the guest's text: made safe to print */
			bx_safe_text(r->error, sizeof(r->error), m.payload,
				     m.len < BX_MSG_ERROR_TEXT_MAX ? m.len : BX_MSG_ERROR_TEXT_MAX);
			r->have_error = true;
			break;
		case BX_M_STARTED:
			r->started = true;
			if (m.len == 4)
				r->pid = (int32_t)bx_get_u32(m.payload);
			if (r->o->svc && r->o->svc->started)
				r->o->svc->started(r->o->svc->ctx, r->pid);
			if (r->o->on_started)
				r->o->on_started(r->o->on_started_ctx);
			break;
		default: /* PONG: nothing to do */
			break;
		}
	}
	return 0;
}

int bx_relay_run(int sock, const struct bx_relay_opts *o, struct bx_relay_result *res, struct bx_err *err)
{
	struct relay r = {.sock = sock, .o = o, .in_open = o->in_fd >= 0, .detach = o->detach};
	int fl = fcntl(sock, F_GETFL);
	fcntl(sock, F_SETFL, fl | O_NONBLOCK); /* our own socket: no one else shares it */

	sigset_t set, old;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
		sigaddset(&set, proxied[i]);
	const struct bx_relay_svc *svc = o->svc;
	/* a service proxies no host signals: they are the service's own */
	if (!svc)
		sigprocmask(SIG_BLOCK, &set, &old);
	int sfd = svc ? -1 : signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

	int rc = -1;
	if (!svc && o->tty && o->in_fd >= 0 && bx_tty_raw(o->tty_fd, err) < 0)
		goto out;
	if (!svc)
		queue_resize(&r);
	for (size_t off = 0; svc && off < svc->in_pre_len && !r.detached; off += IN_CHUNK)
		queue_input(&r, svc->in_pre + off, svc->in_pre_len - off < IN_CHUNK ? svc->in_pre_len - off : IN_CHUNK);

	struct bx_msgbuf mb;
	bx_msgbuf_init(&mb);
	bool lost = false;
	while (!r.got_exit && !r.detached && !r.failed) {
		struct pollfd p[5];
		int n = 0, i_in = -1, i_sig = -1, i_rsz = -1, i_hup = -1;
		p[n++] = (struct pollfd){.fd = sock, .events = POLLIN | (bx_bytes_size(&r.q) ? POLLOUT : 0)};
		if (r.in_open && bx_bytes_size(&r.q) < OUTQ_HIGH)
			p[i_in = n++] = (struct pollfd){.fd = o->in_fd, .events = POLLIN};
		if (sfd >= 0)
			p[i_sig = n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		if (svc && svc->resize_fd >= 0)
			p[i_rsz = n++] = (struct pollfd){.fd = svc->resize_fd, .events = POLLIN};
		if (svc && svc->hup_fd >= 0)
			p[i_hup = n++] = (struct pollfd){.fd = svc->hup_fd, .events = 0};
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			bx_fail(err, errno, "poll");
			goto done;
		}
		if (i_sig >= 0 && p[i_sig].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGWINCH)
					queue_resize(&r);
				else
					queue_i32(&r, BX_M_SIGNAL, (int32_t)si.ssi_signo);
			}
		}
		if (i_hup >= 0 && p[i_hup].revents & (POLLHUP | POLLERR)) {
			bx_fail(err, ECONNRESET, "%s: the client hung up", o->what ? o->what : "box");
			goto done;
		}
		if (i_rsz >= 0 && p[i_rsz].revents)
			read_resizes(&r);
		if (i_in >= 0 && p[i_in].revents)
			read_stdin(&r);
		if (p[0].revents & POLLOUT || bx_bytes_size(&r.q)) {
			if (flush_queue(&r) < 0) {
				/* the other side closed after its last words (a start that
				 * failed: ERROR, STDERR, EXIT while our STDIN_EOF was on its
				 * way): they wait in the socket; read them before giving up */
				struct pollfd in = {.fd = sock, .events = POLLIN};
				while (!r.got_exit && poll(&in, 1, 1000) > 0 && read_sock(&r, &mb, err) == 0)
					;
				lost = !r.got_exit;
				break;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (read_sock(&r, &mb, err) < 0) {
				lost = true;
				break;
			}
		}
	}
	if (r.failed) {
		if (err)
			*err = r.fail;
	} else if (r.detached) {
		flush_queue(&r);
		res->detached = true;
		res->code = 0;
		res->start_error[0] = '\0';
		res->started = r.started;
		res->pid = r.pid;
		rc = 0;
	} else if (r.got_exit) {
		res->detached = false;
		res->code = r.code;
		res->started = r.started;
		res->pid = r.pid;
		snprintf(res->start_error, sizeof(res->start_error), "%.511s", !r.started && r.have_error ? r.error : "");
		rc = 0;
	} else if (r.have_error) {
		bx_fail(err, 0, "%s", r.error);
	} else if (lost) {
		bx_fail(err, 0, "%s: the connection to the box ended before the command exited (the box stopped?)",
			o->what ? o->what : "box");
	}
done:
	bx_msgbuf_free(&mb);
out:
	bx_tty_restore();
	bx_bytes_free(&r.q);
	if (sfd >= 0)
		close(sfd);
	if (!svc)
		sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
