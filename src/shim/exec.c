/* The exec socket (RUN/exec.sock): a transparent, flow-controlled relay
 * between one Unix-socket connection and one mux channel to the agent's exec
 * (4089) or pty (4090) service. Many connections at once; see README.
 *
 * Handshake: the client sends the port as u32 LE, then speaks the session
 * protocol of src/proto/msg.h (REQ, STDIN, STDIN_EOF, SIGNAL, RESIZE ->;
 * <- STARTED, STDOUT, STDERR, ERROR, EXIT) directly with the agent: the shim
 * never parses it. Flow control without buffering a stream:
 *  - client -> guest: the socket is read only while the channel has send
 *    room (credit, and the mux's queue below BX_MUX_OUT_HIGH), and never more
 *    than that, so nothing queues here; a guest process that does not read
 *    its stdin, or a guest that does not read its port, stalls the writes;
 *  - guest -> client: received bytes wait in the connection's queue, and the
 *    guest gets their credit back only once they are written to the socket,
 *    so the queue never exceeds the window (256 KiB) and a client that stops
 *    reading stalls only its own channel (and its process's output pipe).
 * The connection closing (client exited or was killed) closes the channel,
 * and the agent kills the process group. The channel closing (after EXIT)
 * closes the connection once its queue is written.
 *
 * A detached session (BX_EXEC_DETACHED in the handshake's port, exec -d) is
 * the exception: when its client goes, the connection stays as an orphan with
 * no fd that takes the guest's output and throws it away (crediting it back),
 * so the process runs on until it exits and the channel closes. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/paths.h"
#include "../common/unixsock.h"
#include "shim.h"

#define READ_MAX 65536u

struct exec_conn {
	struct exec_conn *next;
	int fd;
	int pidx;             /* index in this round's pollfd slice, -1: not polled */
	uint8_t port_le[4];   /* the handshake */
	size_t port_have;
	uint32_t chan_id;     /* 0: no channel (not yet opened, or closed) */
	bool chan_done;       /* the channel was refused or closed by the guest */
	bool detached;        /* exec -d: the process outlives the client */
	bool dead;            /* freed at the next sweep */
	struct exec_watch *watch; /* its events (BX_EXEC_EVENTS), or NULL */
	struct bx_bytes to_client;  /* guest bytes not yet written; <= the window */
};

static struct bx_chan *conn_chan(struct shim *s, struct exec_conn *c)
{
	struct bx_chan *ch = c->chan_id ? bx_mux_chan(&s->mux, c->chan_id) : NULL;
	return ch && ch->user == c ? ch : NULL;
}

int shim_exec_listen(struct shim *s, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/exec.sock", s->spec.run_dir) < 0 ||
	    (s->exec_listen_fd = bx_unix_listen(path, 128, SOCK_NONBLOCK, err)) < 0)
		return -1;
	return 0;
}

/* The connection ends: the channel is closed (the agent then kills what is
 * left of the process), the fd closed; the struct is freed at the sweep. */
static void conn_end(struct shim *s, struct exec_conn *c)
{
	if (c->dead)
		return;
	struct bx_chan *ch = conn_chan(s, c);
	if (ch) {
		ch->user = NULL; /* late DATA/CLOSE for it are handled as unowned */
		if (ch->state != BX_CH_CLOSING)
			bx_mux_close(&s->mux, ch);
	}
	c->chan_id = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->dead = true;
	s->exec_count--;
}

/* The client is gone: a detached session with a live channel becomes an
 * orphan (its pending output is credited back, later output discarded);
 * every other connection ends. */
static void conn_drop(struct shim *s, struct exec_conn *c)
{
	struct bx_chan *ch = conn_chan(s, c);
	if (c->dead || !c->detached || !ch || ch->state == BX_CH_CLOSING || shim_ending(s) || s->mux.dead) {
		conn_end(s, c);
		return;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	size_t pending = bx_bytes_size(&c->to_client);
	bx_bytes_pop(&c->to_client, pending);
	bx_mux_consumed(&s->mux, ch, pending);
}

/* A one-line ERROR in the session protocol, so the client reports why. */
static void conn_error(struct exec_conn *c, const char *text)
{
	uint8_t hdr[BX_MSG_HDR_SIZE];
	bx_msg_encode_hdr(hdr, BX_M_ERROR, (uint32_t)strlen(text));
	if (bx_bytes_push(&c->to_client, hdr, sizeof(hdr), NULL) == 0)
		bx_bytes_push(&c->to_client, text, strlen(text), NULL);
}

static void conn_write(struct shim *s, struct exec_conn *c)
{
	if (!c->dead && c->fd < 0) {
		/* an orphaned detached session: output goes nowhere */
		size_t pending = bx_bytes_size(&c->to_client);
		struct bx_chan *ch = conn_chan(s, c);
		bx_bytes_pop(&c->to_client, pending);
		if (ch)
			bx_mux_consumed(&s->mux, ch, pending);
		if (c->chan_done)
			conn_end(s, c);
		return;
	}
	while (!c->dead && bx_bytes_size(&c->to_client)) {
		ssize_t n = send(c->fd, bx_bytes_data(&c->to_client), bx_bytes_size(&c->to_client), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			conn_drop(s, c);
			return;
		}
		bx_bytes_pop(&c->to_client, (size_t)n);
		struct bx_chan *ch = conn_chan(s, c);
		if (ch)
			bx_mux_consumed(&s->mux, ch, (size_t)n);
	}
	if (!c->dead && c->chan_done && !bx_bytes_size(&c->to_client))
		conn_drop(s, c);
}

static void conn_open(struct shim *s, struct exec_conn *c)
{
	uint32_t port = bx_get_u32(c->port_le);
	c->detached = port & BX_EXEC_DETACHED;
	if (port & BX_EXEC_EVENTS)
		c->watch = shim_exec_watch_new(s);
	port &= ~(BX_EXEC_DETACHED | BX_EXEC_EVENTS);
	if (port != BX_PORT_EXEC && port != BX_PORT_PTY) {
		conn_error(c, "exec socket: unknown service port");
		c->chan_done = true;
		return;
	}
	if (shim_ending(s) || s->mux.dead) {
		conn_error(c, "the box is stopping");
		c->chan_done = true;
		return;
	}
	struct bx_err err;
	struct bx_chan *ch = bx_mux_open(&s->mux, port, &err);
	if (!ch) {
		conn_error(c, err.msg);
		c->chan_done = true;
		return;
	}
	ch->user = c;
	c->chan_id = ch->id;
}

/* Bytes from the client go straight into DATA frames, never beyond the
 * channel's credit (the opener may send before OPEN_OK: it has the window). */
static void conn_read(struct shim *s, struct exec_conn *c)
{
	uint8_t buf[READ_MAX];
	while (!c->dead) {
		size_t want;
		struct bx_chan *ch = NULL;
		if (c->port_have < sizeof(c->port_le)) {
			want = sizeof(c->port_le) - c->port_have;
		} else {
			ch = conn_chan(s, c);
			if (!ch) {
				/* no channel any more: only notice the client leaving */
				want = sizeof(buf);
			} else {
				size_t room = bx_mux_send_room(&s->mux, ch);
				want = room < READ_MAX ? room : READ_MAX;
				if (!want)
					return;
			}
		}
		ssize_t n = recv(c->fd, buf, want, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_drop(s, c);
			return;
		}
		if (c->port_have < sizeof(c->port_le)) {
			memcpy(c->port_le + c->port_have, buf, (size_t)n);
			c->port_have += (size_t)n;
			if (c->port_have == sizeof(c->port_le)) {
				conn_open(s, c);
				conn_write(s, c);
			}
		} else if (ch) {
			bx_mux_send(&s->mux, ch, buf, (size_t)n); /* within the room: all accepted */
			shim_exec_watch_up(c->watch, buf, (size_t)n);
		}
		/* else: bytes after the channel ended are dropped */
	}
}

static void accept_all(struct shim *s)
{
	for (;;) {
		int fd = accept4(s->exec_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct exec_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->pidx = -1;
		s->exec_count++;
		if (s->exec_count > SHIM_EXEC_MAX) {
			conn_error(c, "too many exec sessions in this box");
			c->chan_done = true;
			c->port_have = sizeof(c->port_le);
		}
		c->next = s->exec_conns;
		s->exec_conns = c;
		conn_write(s, c);
	}
}

static void sweep(struct shim *s)
{
	struct exec_conn **pp = &s->exec_conns;
	while (*pp) {
		struct exec_conn *c = *pp;
		if (c->dead) {
			*pp = c->next;
			bx_bytes_free(&c->to_client);
			shim_exec_watch_free(c->watch);
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

size_t shim_exec_poll_fill(struct shim *s, struct pollfd *p, size_t cap)
{
	sweep(s);
	size_t n = 0;
	if (s->exec_listen_fd >= 0 && !shim_ending(s) && n < cap)
		p[n++] = (struct pollfd){.fd = s->exec_listen_fd, .events = POLLIN};
	else if (cap)
		p[n++] = (struct pollfd){.fd = -1};
	for (struct exec_conn *c = s->exec_conns; c; c = c->next) {
		c->pidx = -1;
		if (n >= cap || c->fd < 0) /* an orphan has no client to poll */
			continue;
		short ev = bx_bytes_size(&c->to_client) ? POLLOUT : 0;
		struct bx_chan *ch = conn_chan(s, c);
		if (c->port_have < sizeof(c->port_le) || !ch || bx_mux_send_room(&s->mux, ch))
			ev |= POLLIN;
		/* polled even with no events: POLLHUP tells that a stalled client died */
		c->pidx = (int)n;
		p[n++] = (struct pollfd){.fd = c->fd, .events = ev};
	}
	return n;
}

void shim_exec_poll_handle(struct shim *s, const struct pollfd *p, size_t n)
{
	if (n && p[0].fd >= 0 && p[0].revents & POLLIN)
		accept_all(s);
	for (struct exec_conn *c = s->exec_conns; c; c = c->next) {
		if (c->pidx < 0 || (size_t)c->pidx >= n || c->dead)
			continue;
		short re = p[c->pidx].revents;
		if (re & POLLOUT)
			conn_write(s, c);
		if (re & (POLLIN | POLLHUP | POLLERR))
			conn_read(s, c);
	}
}

/* mux callbacks for channels owned by an exec connection (c->user) */
void shim_exec_on_open_result(struct shim *s, struct bx_chan *ch, int errnum)
{
	struct exec_conn *c = ch->user;
	if (!errnum)
		return;
	char msg[160];
	snprintf(msg, sizeof(msg), "the box's %s service refused the session: %s",
		 ch->port == BX_PORT_PTY ? "pty" : "exec", strerror(errnum));
	ch->user = NULL;
	c->chan_id = 0;
	c->chan_done = true;
	conn_error(c, msg);
	conn_write(s, c);
}

void shim_exec_on_data(struct shim *s, struct bx_chan *ch, const uint8_t *buf, size_t len)
{
	struct exec_conn *c = ch->user;
	shim_exec_watch_down(c->watch, buf, len);
	struct bx_err err;
	if (bx_bytes_push(&c->to_client, buf, len, &err) < 0) {
		shim_log(s, true, "exec: %s: ending the session", err.msg);
		bx_mux_consumed(&s->mux, ch, len);
		conn_end(s, c);
		return;
	}
	conn_write(s, c);
}

void shim_exec_on_close(struct shim *s, struct bx_chan *ch)
{
	struct exec_conn *c = ch->user;
	ch->user = NULL;
	c->chan_id = 0;
	c->chan_done = true;
	conn_write(s, c);
}

bool shim_exec_output_pending(const struct shim *s)
{
	for (const struct exec_conn *c = s->exec_conns; c; c = c->next)
		if (!c->dead && c->fd >= 0 && bx_bytes_size(&c->to_client))
			return true;
	return false;
}

void shim_exec_end_sessions(struct shim *s)
{
	for (struct exec_conn *c = s->exec_conns; c; c = c->next)
		conn_end(s, c);
	sweep(s);
}

/* The box is over: every session ends with it (the client reports it). */
void shim_exec_close_all(struct shim *s)
{
	shim_exec_end_sessions(s);
	if (s->exec_listen_fd >= 0)
		close(s->exec_listen_fd);
	s->exec_listen_fd = -1;
}
