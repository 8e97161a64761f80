/* The sockets of a pod's port following, shared by agent and shim (podnet_io.h). */
#include "podnet_io.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/readtext.h"
#include "msg.h"

/* A namespace's listeners come first in /proc/net/tcp{,6}: a cut-off read
 * loses connections, not listeners. Both ends are single-threaded. */
#define PROC_TEXT_MAX 262144
static char text4[PROC_TEXT_MAX], text6[PROC_TEXT_MAX];

static void read_proc(void)
{
	bx_read_text("/proc/net/tcp", text4, sizeof(text4));
	bx_read_text("/proc/net/tcp6", text6, sizeof(text6));
}

void bx_pn_init(struct bx_pn_sockets *k, struct bx_mux *m)
{
	memset(k, 0, sizeof(*k));
	k->mux = m;
}

int bx_pn_listen(int family, const void *addr, uint16_t port, bool v6only)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1, v6o = v6only;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, addr, 4);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6o, sizeof(v6o));
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, addr, 16);
		len = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct bx_pn_listener *bx_pn_find(struct bx_pn_sockets *k, uint16_t port)
{
	for (int i = 0; i < k->nlis; i++)
		if (k->lis[i].port == port)
			return &k->lis[i];
	return NULL;
}

struct bx_pn_listener *bx_pn_add(struct bx_pn_sockets *k, uint16_t port, bool loopback)
{
	if (k->nlis == BX_PODNET_MAX_PORTS)
		return NULL;
	struct bx_pn_listener *l = &k->lis[k->nlis++];
	*l = (struct bx_pn_listener){.port = port, .loopback = loopback, .fd = {-1, -1}, .pidx = {-1, -1}};
	return l;
}

bool bx_pn_held(const struct bx_pn_listener *l)
{
	return l->fd[0] >= 0 || l->fd[1] >= 0;
}

void bx_pn_remove(struct bx_pn_sockets *k, int i)
{
	for (int f = 0; f < 2; f++)
		if (k->lis[i].fd[f] >= 0)
			close(k->lis[i].fd[f]);
	k->lis[i] = k->lis[--k->nlis];
}

void bx_pn_read_listeners(struct bx_portset *set)
{
	read_proc();
	memset(set, 0, sizeof(*set));
	bx_portset_add_proc(set, text4, false);
	bx_portset_add_proc(set, text6, true);
}

static struct bx_pn_conn *conn_new(struct bx_pn_sockets *k, int fd, struct bx_chan *ch)
{
	struct bx_pn_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	bx_relay_init(&c->r, fd, ch);
	c->pidx = -1;
	c->next = k->conns;
	k->conns = c;
	k->nconns++;
	return c;
}

int bx_pn_connect(struct bx_pn_sockets *k, struct bx_chan *ch)
{
	if (!BX_PORT_IS_TCP(ch->port))
		return ECONNREFUSED;
	if (k->nconns >= BX_PODNET_MAX_CONNS)
		return EAGAIN;
	/* the texts of the last scan name the listener: the peer asks only for
	 * ports a scan found; read them again only for one that scan missed */
	uint16_t port = (uint16_t)(ch->port - BX_PORT_TCP_BASE);
	struct sockaddr_storage ss;
	socklen_t len;
	if (bx_podnet_listener_addr(text4, text6, port, &ss, &len) < 0) {
		read_proc();
		if (bx_podnet_listener_addr(text4, text6, port, &ss, &len) < 0)
			return ECONNREFUSED;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return e;
	}
	if (!conn_new(k, fd, ch)) {
		close(fd);
		return ENOMEM;
	}
	return 0;
}

/* A connection to one of our listeners: a channel to the peer's side of the port */
static void accept_one(struct bx_pn_sockets *k, int lfd, uint16_t port)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct bx_chan *ch =
		k->nconns < BX_PODNET_MAX_CONNS ? bx_mux_open(k->mux, BX_PORT_TCP_BASE + port, NULL) : NULL;
	if (!ch || !conn_new(k, fd, ch)) {
		if (ch)
			bx_mux_close(k->mux, ch);
		close(fd); /* the client sees its connection end */
	}
}

size_t bx_pn_poll_fill(struct bx_pn_sockets *k, struct pollfd *p, size_t cap)
{
	/* the dead are freed here, never inside a mux callback */
	for (struct bx_pn_conn **pp = &k->conns; *pp;) {
		struct bx_pn_conn *c = *pp;
		if (c->r.dead) {
			*pp = c->next;
			free(c);
			k->nconns--;
		} else
			pp = &c->next;
	}
	size_t n = 0;
	for (int i = 0; i < k->nlis; i++)
		for (int f = 0; f < 2; f++) {
			struct bx_pn_listener *l = &k->lis[i];
			l->pidx[f] = -1;
			/* at the connection limit, new ones wait in the backlog */
			if (l->fd[f] >= 0 && n < cap && k->nconns < BX_PODNET_MAX_CONNS) {
				l->pidx[f] = (int)n;
				p[n++] = (struct pollfd){.fd = l->fd[f], .events = POLLIN};
			}
		}
	for (struct bx_pn_conn *c = k->conns; c; c = c->next) {
		c->pidx = -1;
		int ev = bx_relay_events(k->mux, &c->r);
		if (n < cap && ev >= 0) {
			c->pidx = (int)n;
			p[n++] = (struct pollfd){.fd = c->r.fd, .events = (short)ev};
		}
	}
	return n;
}

void bx_pn_poll_handle(struct bx_pn_sockets *k, const struct pollfd *p, size_t n)
{
	for (struct bx_pn_conn *c = k->conns; c; c = c->next)
		if (c->pidx >= 0 && (size_t)c->pidx < n && p[c->pidx].fd == c->r.fd)
			bx_relay_io(k->mux, &c->r, p[c->pidx].revents);
	for (int i = 0; i < k->nlis; i++)
		for (int f = 0; f < 2; f++) {
			const struct bx_pn_listener *l = &k->lis[i];
			int x = l->pidx[f];
			if (x >= 0 && (size_t)x < n && p[x].fd == l->fd[f] && p[x].revents & POLLIN)
				accept_one(k, l->fd[f], l->port);
		}
}

void bx_pn_close_all(struct bx_pn_sockets *k)
{
	while (k->conns) {
		struct bx_pn_conn *c = k->conns;
		k->conns = c->next;
		bx_relay_end(k->mux, &c->r);
		free(c);
	}
	k->nconns = 0;
	while (k->nlis)
		bx_pn_remove(k, k->nlis - 1);
}

int bx_pn_queue_set(struct bx_bytes *out, uint8_t kind, const struct bx_portset *set)
{
	uint8_t wire[BX_PODNET_WIRE_MAX], hdr[BX_MSG_HDR_SIZE];
	size_t n = bx_portset_encode(set, wire, sizeof(wire));
	bx_msg_encode_hdr(hdr, kind, (uint32_t)n);
	bx_bytes_pop(out, bx_bytes_size(out));
	if (bx_bytes_push(out, hdr, sizeof(hdr), NULL) < 0 || bx_bytes_push(out, wire, n, NULL) < 0)
		return -1;
	return 0;
}

void bx_pn_flush(struct bx_mux *m, uint32_t id, struct bx_bytes *out)
{
	struct bx_chan *ch = id ? bx_mux_chan(m, id) : NULL;
	size_t left = bx_bytes_size(out);
	/* whole or not at all: out holds one message, which a newer one replaces */
	if (ch && ch->state == BX_CH_OPEN && left && bx_mux_send_room(m, ch) >= left)
		bx_bytes_pop(out, bx_mux_send(m, ch, bx_bytes_data(out), left));
}
