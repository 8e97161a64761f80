/* The host's half of a pod's port following (src/proto/podnet.h), for a box
 * in a pod's network namespace with no ports named (spec.all_ports): the
 * shim lives in that namespace, so
 *  - it opens the podnet channel once the guest answers; the guest's
 *    LISTENING sets become listeners here, each connection relayed to the
 *    guest's listener over a channel to BX_PORT_TCP_BASE + port: a port the
 *    box serves on its loopback only is served on the pod's loopback only,
 *    any other on every address of the pod (its IP and loopback);
 *  - every SCAN_MS it reads the namespace's TCP listeners (the pod's other
 *    boxes' shims and anything else there), leaves out its own, and tells
 *    the guest the set whenever it changes (POD_PORTS);
 *  - a channel the guest opens to BX_PORT_TCP_BASE + port is connected to
 *    that port's listener in the namespace, for ports of that set only.
 * A port another box of the pod holds already is tried again at each scan
 * (it is the pod's either way, as two processes of a pod cannot share one).
 * The guest is not trusted: its sets are checked (podnet.c's decoder), at
 * most BX_PODNET_MAX_PORTS ports and BX_PODNET_MAX_CONNS connections. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../proto/podnet.h"
#include "../proto/relay.h"
#include "shim.h"

#define SCAN_MS 500
/* lines of shim.log per boot about ports not served: a guest that changes
 * its listeners without end must not grow the log without end */
#define NOTES_MAX 32
#define PROC_TEXT_MAX 262144 /* the namespace's listeners come first in these files */

struct podnet_conn {
	struct podnet_conn *next;
	struct bx_relay r;
	int pidx;
};

struct podnet_listener {
	uint16_t port;
	bool loopback;
	bool noted;  /* its failure to bind was logged */
	int fd[2];   /* loopback: 127.0.0.1 and ::1; else [::] (both families) or 0.0.0.0 */
	int pidx[2];
};

struct shim_podnet {
	uint32_t ctl_id;
	struct bx_msgbuf in;
	struct bx_bytes out;
	bool told;
	struct bx_portset told_set;  /* the last POD_PORTS */
	struct bx_portset guest;     /* the guest's last LISTENING */
	struct podnet_listener lis[BX_PODNET_MAX_PORTS];
	int nlis;
	struct podnet_conn *conns;
	int nconns;
	long long scan_at_ms;
	unsigned notes;
};

static char text4[PROC_TEXT_MAX], text6[PROC_TEXT_MAX];

/* at most cap-1 bytes of path, NUL-terminated; "" if it cannot be read */
static void read_text(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	buf[len] = '\0';
}

static void read_proc(void)
{
	/* the shim's own network namespace: the pod's */
	read_text("/proc/net/tcp", text4, sizeof(text4));
	read_text("/proc/net/tcp6", text6, sizeof(text6));
}

static bool held(const struct podnet_listener *l)
{
	return l->fd[0] >= 0 || l->fd[1] >= 0;
}

static void drop_listener(struct podnet_listener *l)
{
	for (int f = 0; f < 2; f++) {
		if (l->fd[f] >= 0)
			close(l->fd[f]);
		l->fd[f] = -1;
	}
}

static int listen_on(int family, const void *addr, uint16_t port, bool v6only)
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

static void take(struct shim *s, struct shim_podnet *pn, struct podnet_listener *l)
{
	if (held(l))
		return;
	uint32_t any4 = htonl(INADDR_ANY);
	int e = 0;
	if (l->loopback) {
		l->fd[0] = listen_on(AF_INET, &(uint32_t){htonl(INADDR_LOOPBACK)}, l->port, true);
		e = errno;
		if (l->fd[0] >= 0)
			l->fd[1] = listen_on(AF_INET6, &in6addr_loopback, l->port, true);
	} else {
		l->fd[0] = listen_on(AF_INET6, &in6addr_any, l->port, false);
		if (l->fd[0] < 0 && errno != EADDRINUSE)
			l->fd[0] = listen_on(AF_INET, &any4, l->port, true); /* no IPv6 here */
		e = errno;
	}
	if (held(l)) {
		shim_log(s, false, "podnet: the box's port %u served in the pod%s", l->port,
			 l->loopback ? " (loopback)" : "");
		l->noted = false;
	} else if (!l->noted && pn->notes < NOTES_MAX) {
		pn->notes++;
		shim_log(s, true, "podnet: the box's port %u is not served in the pod: %s (tried again while it listens)",
			 l->port, strerror(e));
		l->noted = true;
	}
}

/* The listeners follow the guest's set: new ports taken, gone ones closed,
 * a port whose scope changed taken again. */
static void sync_listeners(struct shim *s, struct shim_podnet *pn)
{
	for (int i = 0; i < pn->nlis;) {
		struct podnet_listener *l = &pn->lis[i];
		const struct bx_podport *g = bx_portset_find(&pn->guest, l->port);
		if (g && g->loopback == l->loopback) {
			i++;
			continue;
		}
		drop_listener(l);
		pn->lis[i] = pn->lis[--pn->nlis];
	}
	for (int i = 0; i < pn->guest.n; i++) {
		struct podnet_listener *l = NULL;
		for (int k = 0; k < pn->nlis && !l; k++)
			if (pn->lis[k].port == pn->guest.p[i].port)
				l = &pn->lis[k];
		if (!l) {
			l = &pn->lis[pn->nlis++]; /* nlis <= guest.n <= the maximum */
			*l = (struct podnet_listener){.port = pn->guest.p[i].port, .loopback = pn->guest.p[i].loopback,
						      .fd = {-1, -1}};
		}
		take(s, pn, l);
	}
}

static bool ours(const struct shim_podnet *pn, uint16_t port)
{
	for (int i = 0; i < pn->nlis; i++)
		if (pn->lis[i].port == port && held(&pn->lis[i]))
			return true;
	return false;
}

static void scan(struct shim *s, struct shim_podnet *pn)
{
	sync_listeners(s, pn);
	read_proc();
	struct bx_portset all = {0}, set = {0};
	bx_portset_add_proc(&all, text4, false);
	bx_portset_add_proc(&all, text6, true);
	for (int i = 0; i < all.n; i++)
		if (!ours(pn, all.p[i].port))
			bx_portset_add(&set, all.p[i].port, all.p[i].loopback);
	if (pn->told && bx_portset_equal(&set, &pn->told_set))
		return;
	uint8_t wire[BX_PODNET_WIRE_MAX], hdr[BX_MSG_HDR_SIZE];
	size_t n = bx_portset_encode(&set, wire, sizeof(wire));
	bx_msg_encode_hdr(hdr, BX_M_POD_PORTS, (uint32_t)n);
	bx_bytes_pop(&pn->out, bx_bytes_size(&pn->out)); /* a newer set replaces one not yet out */
	if (bx_bytes_push(&pn->out, hdr, sizeof(hdr), NULL) < 0 || bx_bytes_push(&pn->out, wire, n, NULL) < 0)
		return; /* out of memory: the next scan tries again */
	pn->told_set = set;
	pn->told = true;
}

static void flush_ctl(struct shim *s, struct shim_podnet *pn)
{
	struct bx_chan *ch = pn->ctl_id ? bx_mux_chan(&s->mux, pn->ctl_id) : NULL;
	size_t left = bx_bytes_size(&pn->out);
	if (ch && ch->state == BX_CH_OPEN && left)
		bx_bytes_pop(&pn->out, bx_mux_send(&s->mux, ch, bx_bytes_data(&pn->out), left));
}

static struct podnet_conn *conn_new(struct shim_podnet *pn, int fd, struct bx_chan *ch)
{
	struct podnet_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	bx_relay_init(&c->r, fd, ch);
	c->pidx = -1;
	c->next = pn->conns;
	pn->conns = c;
	pn->nconns++;
	return c;
}

static void accept_one(struct shim *s, struct shim_podnet *pn, int lfd, uint16_t port)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct bx_err err;
	struct bx_chan *ch = pn->nconns < BX_PODNET_MAX_CONNS && !s->mux.dead && !shim_ending(s)
				     ? bx_mux_open(&s->mux, BX_PORT_TCP_BASE + port, &err)
				     : NULL;
	if (!ch || !conn_new(pn, fd, ch)) {
		if (ch)
			bx_mux_close(&s->mux, ch);
		close(fd);
	}
}

bool shim_podnet_owns(const struct bx_chan *ch)
{
	return ch->port == BX_PORT_PODNET || BX_PORT_IS_TCP(ch->port);
}

/* The guest opens BX_PORT_TCP_BASE + port: connect to the pod's listener */
int shim_podnet_on_open(struct shim *s, struct bx_chan *ch)
{
	struct shim_podnet *pn = s->podnet;
	uint16_t port = (uint16_t)(ch->port - BX_PORT_TCP_BASE);
	if (!pn || !BX_PORT_IS_TCP(ch->port) || !bx_portset_find(&pn->told_set, port))
		return ECONNREFUSED; /* only what the pod serves, and only for a pod's box */
	if (pn->nconns >= BX_PODNET_MAX_CONNS)
		return EAGAIN;
	read_proc();
	struct sockaddr_storage ss;
	socklen_t len;
	if (bx_podnet_listener_addr(text4, text6, port, &ss, &len) < 0)
		return ECONNREFUSED;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return e;
	}
	if (!conn_new(pn, fd, ch)) {
		close(fd);
		return ENOMEM;
	}
	return 0;
}

void shim_podnet_on_open_result(struct shim *s, struct bx_chan *ch, int errnum)
{
	if (errnum && ch->user) /* nothing listens there in the guest any more */
		bx_relay_end(&s->mux, ch->user);
}

static void handle(struct shim *s, struct shim_podnet *pn, const struct bx_msg *m)
{
	struct bx_err err;
	struct bx_portset set;
	if (m->kind != BX_M_LISTENING || bx_portset_decode(&set, m->payload, m->len, &err) < 0) {
		if (pn->notes < NOTES_MAX) {
			pn->notes++;
			shim_log(s, true, "podnet: the guest sent a malformed port set: ignored");
		}
		return;
	}
	pn->guest = set;
	sync_listeners(s, pn);
}

void shim_podnet_on_data(struct shim *s, struct bx_chan *ch, const uint8_t *buf, size_t len)
{
	struct shim_podnet *pn = s->podnet;
	if (ch->user) {
		bx_relay_data(&s->mux, ch->user, buf, len);
		return;
	}
	bx_mux_consumed(&s->mux, ch, len);
	if (!pn || ch->id != pn->ctl_id)
		return;
	struct bx_err err;
	struct bx_msg m;
	int r = bx_msgbuf_append(&pn->in, buf, len, &err);
	while (r == 0 && (r = bx_msgbuf_next(&pn->in, &m, &err)) == 1) {
		handle(s, pn, &m);
		r = 0;
	}
	if (r < 0) {
		shim_log(s, true, "podnet: %s: the box's ports are no longer followed", err.msg);
		bx_mux_close(&s->mux, ch);
	}
}

void shim_podnet_on_eof(struct shim *s, struct bx_chan *ch)
{
	if (ch->user)
		bx_relay_eof(&s->mux, ch->user);
}

void shim_podnet_on_close(struct shim *s, struct bx_chan *ch)
{
	if (ch->user)
		bx_relay_closed(&s->mux, ch->user);
	else if (s->podnet && ch->id == s->podnet->ctl_id)
		s->podnet->ctl_id = 0; /* the guest refused or ended it: no following this boot */
}

void shim_podnet_tick(struct shim *s, long long now)
{
	if (!s->spec.all_ports || s->pooled || !s->spec.network)
		return;
	if (!s->podnet) {
		if (!shim_guest_heard(s) || s->mux.dead || shim_ending(s))
			return;
		struct shim_podnet *pn = calloc(1, sizeof(*pn));
		struct bx_err err;
		struct bx_chan *ch = pn ? bx_mux_open(&s->mux, BX_PORT_PODNET, &err) : NULL;
		if (!ch) {
			free(pn);
			return;
		}
		bx_msgbuf_init(&pn->in);
		pn->ctl_id = ch->id;
		s->podnet = pn;
	}
	struct shim_podnet *pn = s->podnet;
	for (struct podnet_conn **pp = &pn->conns; *pp;) {
		struct podnet_conn *c = *pp;
		if (c->r.dead) {
			*pp = c->next;
			free(c);
			pn->nconns--;
		} else
			pp = &c->next;
	}
	if (pn->ctl_id && now >= pn->scan_at_ms) {
		scan(s, pn);
		pn->scan_at_ms = now + SCAN_MS;
	}
	flush_ctl(s, pn);
}

long long shim_podnet_wake(const struct shim *s)
{
	return s->podnet && s->podnet->ctl_id ? s->podnet->scan_at_ms : 0;
}

size_t shim_podnet_poll_fill(struct shim *s, struct pollfd *p, size_t cap)
{
	struct shim_podnet *pn = s->podnet;
	size_t n = 0;
	if (!pn)
		return 0;
	for (int i = 0; i < pn->nlis; i++)
		for (int f = 0; f < 2; f++) {
			pn->lis[i].pidx[f] = -1;
			if (pn->lis[i].fd[f] >= 0 && n < cap && pn->nconns < BX_PODNET_MAX_CONNS) {
				pn->lis[i].pidx[f] = (int)n;
				p[n++] = (struct pollfd){.fd = pn->lis[i].fd[f], .events = POLLIN};
			}
		}
	for (struct podnet_conn *c = pn->conns; c; c = c->next) {
		c->pidx = -1;
		if (c->r.dead || n >= cap)
			continue;
		c->pidx = (int)n;
		p[n++] = (struct pollfd){.fd = c->r.fd, .events = bx_relay_events(&s->mux, &c->r)};
	}
	return n;
}

void shim_podnet_poll_handle(struct shim *s, const struct pollfd *p, size_t n)
{
	struct shim_podnet *pn = s->podnet;
	if (!pn)
		return;
	for (struct podnet_conn *c = pn->conns; c; c = c->next)
		if (c->pidx >= 0 && (size_t)c->pidx < n && p[c->pidx].fd == c->r.fd)
			bx_relay_io(&s->mux, &c->r, p[c->pidx].revents);
	for (int i = 0; i < pn->nlis; i++)
		for (int f = 0; f < 2; f++) {
			int k = pn->lis[i].pidx[f];
			if (k >= 0 && (size_t)k < n && p[k].revents & POLLIN && p[k].fd == pn->lis[i].fd[f])
				accept_one(s, pn, pn->lis[i].fd[f], pn->lis[i].port);
		}
}

void shim_podnet_stop(struct shim *s)
{
	struct shim_podnet *pn = s->podnet;
	if (!pn)
		return;
	while (pn->conns) {
		struct podnet_conn *c = pn->conns;
		pn->conns = c->next;
		bx_relay_end(&s->mux, &c->r);
		free(c);
	}
	for (int i = 0; i < pn->nlis; i++)
		drop_listener(&pn->lis[i]);
	bx_msgbuf_free(&pn->in);
	bx_bytes_free(&pn->out);
	free(pn);
	s->podnet = NULL;
}
