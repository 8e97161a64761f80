/* The guest's half of a pod's port following (src/proto/podnet.h): once the
 * host opens the podnet channel, the agent
 *  - reads the guest's TCP listeners every SCAN_MS and tells the host the
 *    set whenever it changes (LISTENING), leaving out its own listeners;
 *  - listens on the guest's loopback (127.0.0.1 and ::1) on each port the
 *    host says the pod's other containers serve (POD_PORTS), and relays each
 *    connection over a channel it opens (BX_PORT_TCP_BASE + port), which
 *    the shim connects to the pod's loopback;
 *  - connects each channel the host opens to BX_PORT_TCP_BASE + port to the
 *    guest's listener of that port.
 * A port the box itself listens on is never taken: a bind that fails is
 * retried at the next scan, as the port may be freed. */
#include "agent.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../proto/podnet.h"
#include "../proto/relay.h"

#define SCAN_MS 500
#define PROC_TEXT_MAX 65536 /* listeners come first in these files */

struct podnet_conn {
	struct podnet_conn *next;
	struct bx_relay r;
	int pidx;
};

struct podnet_listener {
	uint16_t port;
	int fd[2]; /* 127.0.0.1, ::1; -1: not held */
	int pidx[2];
};

struct agent_podnet {
	uint32_t ctl_id;
	struct bx_msgbuf in;
	struct bx_bytes out;               /* LISTENING not yet taken by the channel */
	bool told;                         /* a LISTENING went out */
	struct bx_portset told_set;
	struct bx_portset wanted;          /* the last POD_PORTS */
	struct podnet_listener lis[BX_PODNET_MAX_PORTS];
	int nlis;
	struct podnet_conn *conns;
	int nconns;
	uint64_t scan_at_ms;
};

static char text4[PROC_TEXT_MAX], text6[PROC_TEXT_MAX];

bool agent_podnet_port(uint32_t port)
{
	return port == BX_PORT_PODNET || BX_PORT_IS_TCP(port);
}

static struct agent_podnet *pn_of(struct agent *ag)
{
	if (!ag->podnet) {
		ag->podnet = calloc(1, sizeof(*ag->podnet));
		if (!ag->podnet)
			agent_fatal("out of memory");
		bx_msgbuf_init(&ag->podnet->in);
	}
	return ag->podnet;
}

static bool held(const struct podnet_listener *l)
{
	return l->fd[0] >= 0 || l->fd[1] >= 0;
}

static struct podnet_listener *listener_of(struct agent_podnet *pn, uint16_t port)
{
	for (int i = 0; i < pn->nlis; i++)
		if (pn->lis[i].port == port)
			return &pn->lis[i];
	return NULL;
}

static void read_listeners(struct bx_portset *set)
{
	agent_read_text("/proc/net/tcp", text4, sizeof(text4));
	agent_read_text("/proc/net/tcp6", text6, sizeof(text6));
	memset(set, 0, sizeof(*set));
	bx_portset_add_proc(set, text4, false);
	bx_portset_add_proc(set, text6, true);
}

static int listen_on(int family, uint16_t port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Hold the loopback listeners of every wanted port not yet held (a port the
 * box serves itself fails to bind, and is tried again next time); drop the
 * ones no longer wanted. */
static void sync_listeners(struct agent_podnet *pn)
{
	for (int i = 0; i < pn->nlis;) {
		struct podnet_listener *l = &pn->lis[i];
		if (bx_portset_find(&pn->wanted, l->port)) {
			i++;
			continue;
		}
		for (int f = 0; f < 2; f++)
			if (l->fd[f] >= 0)
				close(l->fd[f]);
		agent_info("podnet: port %u no longer served in the pod", l->port);
		pn->lis[i] = pn->lis[--pn->nlis];
	}
	for (int i = 0; i < pn->wanted.n; i++) {
		uint16_t port = pn->wanted.p[i].port;
		struct podnet_listener *l = listener_of(pn, port);
		if (!l) {
			if (pn->nlis == BX_PODNET_MAX_PORTS)
				break;
			l = &pn->lis[pn->nlis++];
			*l = (struct podnet_listener){.port = port, .fd = {-1, -1}};
		}
		if (held(l))
			continue;
		l->fd[0] = listen_on(AF_INET, port);
		if (l->fd[0] >= 0)
			l->fd[1] = listen_on(AF_INET6, port); /* no IPv6 in the guest: 127.0.0.1 alone */
		if (held(l))
			agent_info("podnet: the pod's port %u on the loopback", port);
	}
}

static void send_listening(struct agent *ag, struct agent_podnet *pn, const struct bx_portset *set)
{
	uint8_t wire[BX_PODNET_WIRE_MAX];
	size_t n = bx_portset_encode(set, wire, sizeof(wire));
	uint8_t hdr[BX_MSG_HDR_SIZE];
	bx_msg_encode_hdr(hdr, BX_M_LISTENING, (uint32_t)n);
	/* the host takes each set as it comes: an older one not yet out is replaced */
	bx_bytes_pop(&pn->out, bx_bytes_size(&pn->out));
	if (bx_bytes_push(&pn->out, hdr, sizeof(hdr), NULL) < 0 || bx_bytes_push(&pn->out, wire, n, NULL) < 0)
		agent_fatal("out of memory");
	pn->told_set = *set;
	pn->told = true;
}

static void scan(struct agent *ag, struct agent_podnet *pn)
{
	sync_listeners(pn);
	struct bx_portset all, set = {0};
	read_listeners(&all);
	for (int i = 0; i < all.n; i++) {
		const struct podnet_listener *l = listener_of(pn, all.p[i].port);
		if (!l || !held(l)) /* ours are the pod's, not the box's */
			bx_portset_add(&set, all.p[i].port, all.p[i].loopback);
	}
	set.truncated = all.truncated;
	if (!pn->told || !bx_portset_equal(&set, &pn->told_set)) {
		if (set.truncated && !(pn->told && pn->told_set.truncated))
			agent_err("podnet: the box listens on more than %d TCP ports: the rest are not served in the pod",
				  BX_PODNET_MAX_PORTS);
		send_listening(ag, pn, &set);
	}
}

static void flush_ctl(struct agent *ag, struct agent_podnet *pn)
{
	struct bx_chan *ch = pn->ctl_id ? bx_mux_chan(&ag->mux, pn->ctl_id) : NULL;
	if (!ch || ch->state != BX_CH_OPEN) /* a new one waits for the channel */
		return;
	size_t left = bx_bytes_size(&pn->out);
	if (left)
		bx_bytes_pop(&pn->out, bx_mux_send(&ag->mux, ch, bx_bytes_data(&pn->out), left));
}

static struct podnet_conn *conn_new(struct agent_podnet *pn, int fd, struct bx_chan *ch)
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

/* A connection to the guest's loopback listener: a relay to the pod's loopback */
static void accept_one(struct agent *ag, struct agent_podnet *pn, int lfd, uint16_t port)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct bx_err err;
	struct bx_chan *ch = pn->nconns < BX_PODNET_MAX_CONNS ? bx_mux_open(&ag->mux, BX_PORT_TCP_BASE + port, &err) : NULL;
	if (!ch || !conn_new(pn, fd, ch)) {
		if (ch)
			bx_mux_close(&ag->mux, ch);
		close(fd); /* the client sees its connection end */
	}
}

/* The host opens BX_PORT_TCP_BASE + port: connect to the guest's listener */
static int open_tcp(struct agent *ag, struct agent_podnet *pn, struct bx_chan *ch)
{
	uint16_t port = (uint16_t)(ch->port - BX_PORT_TCP_BASE);
	if (pn->nconns >= BX_PODNET_MAX_CONNS)
		return EAGAIN;
	agent_read_text("/proc/net/tcp", text4, sizeof(text4));
	agent_read_text("/proc/net/tcp6", text6, sizeof(text6));
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

int agent_podnet_on_open(struct agent *ag, struct bx_chan *ch)
{
	struct agent_podnet *pn = pn_of(ag);
	if (BX_PORT_IS_TCP(ch->port))
		return open_tcp(ag, pn, ch);
	if (pn->ctl_id)
		return EBUSY;
	pn->ctl_id = ch->id;
	pn->scan_at_ms = agent_now_ms();
	pn->told = false; /* the new channel hears the whole set */
	agent_info("podnet: following the box's ports for its pod");
	return 0;
}

static void handle(struct agent *ag, struct agent_podnet *pn, const struct bx_msg *m)
{
	struct bx_err err;
	if (m->kind != BX_M_POD_PORTS) {
		agent_err("podnet: unexpected message kind %u", m->kind);
		return;
	}
	if (bx_portset_decode(&pn->wanted, m->payload, m->len, &err) < 0) {
		agent_err("podnet: %s", err.msg);
		return;
	}
	sync_listeners(pn);
}

void agent_podnet_on_data(struct agent *ag, struct bx_chan *ch, const uint8_t *buf, size_t len)
{
	struct agent_podnet *pn = pn_of(ag);
	if (ch->user) {
		bx_relay_data(&ag->mux, ch->user, buf, len);
		return;
	}
	bx_mux_consumed(&ag->mux, ch, len);
	if (ch->id != pn->ctl_id)
		return; /* a relay's channel after its end */
	struct bx_err err;
	struct bx_msg m;
	int r = bx_msgbuf_append(&pn->in, buf, len, &err);
	while (r == 0 && (r = bx_msgbuf_next(&pn->in, &m, &err)) == 1) {
		handle(ag, pn, &m);
		r = 0;
	}
	if (r < 0) {
		agent_err("podnet: %s", err.msg);
		bx_mux_close(&ag->mux, ch);
	}
}

void agent_podnet_on_eof(struct agent *ag, struct bx_chan *ch)
{
	if (ch->user)
		bx_relay_eof(&ag->mux, ch->user);
}

void agent_podnet_on_close(struct agent *ag, struct bx_chan *ch)
{
	struct agent_podnet *pn = pn_of(ag);
	if (ch->user) {
		bx_relay_closed(&ag->mux, ch->user);
		return;
	}
	if (ch->id == pn->ctl_id) {
		/* the host stopped following (a new one may open): keep what is held */
		pn->ctl_id = 0;
		bx_msgbuf_free(&pn->in);
		bx_msgbuf_init(&pn->in);
		bx_bytes_pop(&pn->out, bx_bytes_size(&pn->out));
	}
}

void agent_podnet_on_open_result(struct agent *ag, struct bx_chan *ch, int errnum)
{
	if (errnum && ch->user) /* the pod's loopback refused: the client's connection ends */
		bx_relay_end(&ag->mux, ch->user);
}

size_t agent_podnet_nfds(const struct agent *ag)
{
	/* an upper bound: the scan in agent_podnet_poll_fill may take new ports */
	const struct agent_podnet *pn = ag->podnet;
	return pn ? (size_t)(2 * BX_PODNET_MAX_PORTS + pn->nconns) : 0;
}

size_t agent_podnet_poll_fill(struct agent *ag, struct pollfd *p, uint64_t now, uint64_t *wake)
{
	struct agent_podnet *pn = ag->podnet;
	if (!pn)
		return 0;
	/* the dead are freed here, never inside a callback */
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
		scan(ag, pn);
		pn->scan_at_ms = now + SCAN_MS;
	}
	flush_ctl(ag, pn);
	if (pn->ctl_id && (!*wake || pn->scan_at_ms < *wake))
		*wake = pn->scan_at_ms;
	size_t n = 0;
	for (int i = 0; i < pn->nlis; i++)
		for (int f = 0; f < 2; f++) {
			pn->lis[i].pidx[f] = -1;
			if (pn->lis[i].fd[f] >= 0 && pn->nconns < BX_PODNET_MAX_CONNS) {
				pn->lis[i].pidx[f] = (int)n;
				p[n++] = (struct pollfd){.fd = pn->lis[i].fd[f], .events = POLLIN};
			}
		}
	for (struct podnet_conn *c = pn->conns; c; c = c->next) {
		c->pidx = (int)n;
		p[n++] = (struct pollfd){.fd = c->r.fd, .events = bx_relay_events(&ag->mux, &c->r)};
	}
	return n;
}

void agent_podnet_poll_handle(struct agent *ag, const struct pollfd *p, size_t n)
{
	struct agent_podnet *pn = ag->podnet;
	if (!pn)
		return;
	for (struct podnet_conn *c = pn->conns; c; c = c->next)
		if (c->pidx >= 0 && (size_t)c->pidx < n && p[c->pidx].fd == c->r.fd)
			bx_relay_io(&ag->mux, &c->r, p[c->pidx].revents);
	for (int i = 0; i < pn->nlis; i++)
		for (int f = 0; f < 2; f++) {
			int k = pn->lis[i].pidx[f];
			if (k >= 0 && (size_t)k < n && p[k].revents & POLLIN && p[k].fd == pn->lis[i].fd[f])
				accept_one(ag, pn, pn->lis[i].fd[f], pn->lis[i].port);
		}
}
