/* The attach socket (RUN/attach.sock) and the client's stdio.
 *
 * Handshake: the client connects and sends one byte of flags (bit0: forward
 * stdin; bit1: keep writing output to the passed fds after the socket closes)
 * with SCM_RIGHTS carrying exactly 3 fds: stdin, stdout, stderr. Afterwards the
 * client sends bx_msg messages (SIGNAL i32, RESIZE u16 rows u16 cols) and the
 * shim sends ERROR (one line) and EXIT (i32) messages. One client at a time.
 *
 * The passed fds share their open file description with the client, so the
 * shim never sets O_NONBLOCK on them (that would leak into the user's
 * terminal): pipes and ttys are reopened through /proc/self/fd with their own
 * O_NONBLOCK description, sockets use MSG_DONTWAIT, regular files never block. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/paths.h"
#include "../common/unixsock.h"
#include "../proto/frame.h"
#include "shim.h"

#define CLIENT_IN_HIGH 65536 /* stop reading the client while this much waits for main's credit */
#define PLAIN_CHUNK 4096 /* PIPE_BUF: a write after POLLOUT will not block */

int shim_listen(struct shim *s, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/attach.sock", s->spec.run_dir) < 0 ||
	    (s->listen_fd = bx_unix_listen(path, 4, SOCK_NONBLOCK, err)) < 0)
		return -1;
	return 0;
}

static void io_close(struct io *io)
{
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	io->kind = IO_NONE;
}

static void io_setup(struct io *io, int fd, int acc)
{
	struct stat st;
	io->fd = fd;
	io->kind = IO_PLAIN;
	if (fstat(fd, &st) < 0)
		return;
	if (S_ISSOCK(st.st_mode)) {
		io->kind = IO_SOCKET;
	} else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		int nfd = open(p, acc | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (nfd >= 0) {
			close(fd);
			io->fd = nfd;
			io->kind = IO_NONBLOCK;
		}
	}
}

static ssize_t io_write(struct io *io, const void *buf, size_t len)
{
	switch (io->kind) {
	case IO_SOCKET:
		return send(io->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	case IO_NONBLOCK:
		return write(io->fd, buf, len);
	case IO_PLAIN:
		return write(io->fd, buf, len < PLAIN_CHUNK ? len : PLAIN_CHUNK);
	default:
		return (ssize_t)len; /* gone: discard */
	}
}

static ssize_t io_read(struct io *io, void *buf, size_t len)
{
	if (io->kind == IO_SOCKET)
		return recv(io->fd, buf, len, MSG_DONTWAIT);
	return read(io->fd, buf, len);
}

void shim_accept(struct shim *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (s->cli_fd >= 0) {
		uint8_t msg[BX_MSG_HDR_SIZE + 64];
		const char *t = "another client is attached";
		bx_msg_encode_hdr(msg, BX_M_ERROR, (uint32_t)strlen(t));
		memcpy(msg + BX_MSG_HDR_SIZE, t, strlen(t));
		if (send(fd, msg, BX_MSG_HDR_SIZE + strlen(t), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* it will see the close */
		}
		close(fd);
		return;
	}
	s->cli_fd = fd;
	s->cli_ready = false;
	bx_msgbuf_init(&s->cli_in);
	shim_log(s, false, "client connected");
}

static void handshake(struct shim *s)
{
	uint8_t flags;
	char cbuf[CMSG_SPACE(sizeof(int) * 3)];
	struct iovec iov = {.iov_base = &flags, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(s->cli_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	int fds[3], nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int *p = (int *)CMSG_DATA(c);
		for (int i = 0; i < k; i++) {
			if (nfds < 3)
				fds[nfds++] = p[i];
			else
				close(p[i]);
		}
	}
	if (n <= 0 || nfds != 3 || (mh.msg_flags & MSG_CTRUNC)) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		if (n > 0)
			shim_client_send(s, BX_M_ERROR, "attach: expected 1 byte with 3 fds (stdin, stdout, stderr)", 59);
		shim_log(s, true, "client sent a bad attach handshake");
		shim_client_gone(s);
		return;
	}
	s->cli_ready = true;
	s->ever_attached = true;
	s->cli_stdin = flags & BX_ATTACH_STDIN;
	s->keep_fds = flags & BX_ATTACH_KEEP_FDS;
	io_setup(&s->out[0], fds[1], O_WRONLY);
	io_setup(&s->out[1], fds[2], O_WRONLY);
	s->stdin_eof_sent = false;
	s->cli_stdin_msgs = flags & BX_ATTACH_STDIN_MSGS;
	s->cli_wants_started = flags & BX_ATTACH_STARTED;
	s->cli_wants_guest_up = flags & BX_ATTACH_GUEST_UP;
	s->guest_up_told = false;
	if (s->cli_wants_started && s->main_started)
		shim_client_send_started(s);
	if (s->cli_stdin && !s->cli_stdin_msgs) {
		io_setup(&s->in, fds[0], O_RDONLY);
	} else {
		close(fds[0]);
		s->in.fd = -1;
		s->in.kind = IO_NONE;
	}
	shim_log(s, false, "client attached (stdin %d, keep fds %d)", s->cli_stdin, s->keep_fds);
	shim_process_main(s);
}

void shim_client_readable(struct shim *s)
{
	if (!s->cli_ready) {
		handshake(s);
		return;
	}
	uint8_t buf[4096];
	while (bx_bytes_size(&s->main_out) < CLIENT_IN_HIGH) {
		ssize_t n = recv(s->cli_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			shim_client_gone(s);
			return;
		}
		struct bx_err err;
		if (bx_msgbuf_append(&s->cli_in, buf, (size_t)n, &err) < 0) {
			shim_log(s, true, "client: %s", err.msg);
			shim_client_gone(s);
			return;
		}
		struct bx_msg m;
		int r;
		while ((r = bx_msgbuf_next(&s->cli_in, &m, &err)) > 0) {
			if (m.kind == BX_M_SIGNAL && m.len == 4) {
				shim_event(s, SHIM_EV_RESUME, NULL); /* as for SIGUSR1 (fsm.c): the guest must run to get it */
				shim_main_send(s, m.kind, m.payload, m.len);
			} else if (m.kind == BX_M_RESIZE && m.len == 4)
				shim_main_send(s, m.kind, m.payload, m.len);
			else if (m.kind == BX_M_STDIN && s->cli_stdin && s->cli_stdin_msgs && !s->stdin_eof_sent)
				shim_main_send(s, m.kind, m.payload, m.len);
			else if (m.kind == BX_M_STDIN_EOF && s->cli_stdin && s->cli_stdin_msgs && !s->stdin_eof_sent) {
				s->stdin_eof_sent = true;
				shim_main_send(s, m.kind, NULL, 0);
			}
		}
		if (r < 0) {
			shim_log(s, true, "client: %s", err.msg);
			shim_client_gone(s);
			return;
		}
	}
}

/* BX_ATTACH_STARTED: main runs in the guest, so a SIGNAL sent from now on reaches it */
void shim_client_send_started(struct shim *s)
{
	uint8_t le[4];
	bx_put_u32(le, (uint32_t)s->main_pid);
	shim_client_send(s, BX_M_STARTED, le, 4);
}

void shim_client_send(struct shim *s, uint8_t kind, const void *payload, uint32_t len)
{
	if (s->cli_fd < 0)
		return;
	uint8_t hdr[BX_MSG_HDR_SIZE];
	struct bx_err err;
	bx_msg_encode_hdr(hdr, kind, len);
	if (bx_bytes_push(&s->cli_out, hdr, sizeof(hdr), &err) < 0 || bx_bytes_push(&s->cli_out, payload, len, &err) < 0) {
		shim_client_fail(s, &err);
		return;
	}
	shim_client_writable(s);
}

void shim_client_writable(struct shim *s)
{
	while (s->cli_fd >= 0 && bx_bytes_size(&s->cli_out)) {
		ssize_t n = send(s->cli_fd, bx_bytes_data(&s->cli_out), bx_bytes_size(&s->cli_out), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			shim_client_gone(s);
			return;
		}
		bx_bytes_pop(&s->cli_out, (size_t)n);
	}
}

void shim_stdin_readable(struct shim *s)
{
	uint8_t buf[32768];
	ssize_t n = io_read(&s->in, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		shim_main_send(s, BX_M_STDIN, buf, (uint32_t)n);
		return;
	}
	io_close(&s->in);
	if (!s->stdin_eof_sent) {
		s->stdin_eof_sent = true;
		shim_main_send(s, BX_M_STDIN_EOF, NULL, 0);
	}
}

/* A stream that fails (EPIPE: `| head` went away) is dropped; its further
 * output is discarded, as it would be for a process writing to a closed pipe. */
void shim_output_writable(struct shim *s)
{
	struct io *io = &s->out[s->pend_stream];
	while (bx_bytes_size(&s->pend)) {
		ssize_t n = io_write(io, bx_bytes_data(&s->pend), bx_bytes_size(&s->pend));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			shim_log(s, false, "client %s: %s; discarding its output", s->pend_stream ? "stderr" : "stdout",
				 strerror(errno));
			io_close(io);
			continue;
		}
		bx_bytes_pop(&s->pend, (size_t)n);
	}
}

bool shim_output_busy(const struct shim *s)
{
	return bx_bytes_size(&s->pend) > 0;
}

void shim_client_fail(struct shim *s, const struct bx_err *err)
{
	if (s->cli_fd < 0)
		return;
	shim_log(s, true, "attached client: %s: detaching it (the box goes on)", err->msg);
	shim_client_gone(s);
}

void shim_client_gone(struct shim *s)
{
	if (s->cli_fd < 0)
		return;
	close(s->cli_fd);
	s->cli_fd = -1;
	bx_msgbuf_free(&s->cli_in);
	bx_bytes_free(&s->cli_out);
	shim_log(s, false, "client detached");
	if (!s->cli_ready)
		return;
	s->cli_ready = false;
	/* `docker run -i` semantics: the process sees EOF when its client leaves;
	 * a terminal is left open for the next attach (detach with Ctrl-P Ctrl-Q) */
	if (s->cli_stdin && !s->stdin_eof_sent && !shim_ending(s) && !s->spec.tty) {
		s->stdin_eof_sent = true;
		shim_main_send(s, BX_M_STDIN_EOF, NULL, 0);
	}
	io_close(&s->in);
	if (!s->keep_fds) {
		io_close(&s->out[0]);
		io_close(&s->out[1]);
	}
	shim_process_main(s); /* discards what is left, returning credit */
}
