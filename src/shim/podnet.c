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
 * most BX_PODNET_MAX_PORTS ports and BX_PODNET_MAX_CONNS connections, and
 * NOTES_MAX + 1 lines of shim.log a boot. The sockets are
 * src/proto/podnet_io.c's, as the agent's. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../proto/podnet_io.h"
#include "shim.h"

#define SCAN_MS 500
/* lines of shim.log per boot about ports not served: a guest that changes
 * its listeners without end must not grow the log without end */
#define NOTES_MAX 32

struct shim_podnet {
	uint32_t ctl_id;
	struct bx_msgbuf in;
	struct bx_bytes out;         /* the POD_PORTS not yet sent */
	bool told;
	struct bx_portset told_set;  /* the last POD_PORTS */
	struct bx_portset guest;     /* the guest's last LISTENING */
	struct bx_pn_sockets k;
	long long scan_at_ms;
	unsigned notes;              /* lines about ports not served, this boot */
	bool bad_noted;              /* a malformed set was logged, this boot */
};

static void take(struct shim *s, struct shim_podnet *pn, struct bx_pn_listener *l)
{
	if (bx_pn_held(l))
		return;
	uint32_t lo4 = htonl(INADDR_LOOPBACK), any4 = htonl(INADDR_ANY);
	int e;
	if (l->loopback) {
		l->fd[0] = bx_pn_listen(AF_INET, &lo4, l->port, true);
		e = errno;
		if (l->fd[0] >= 0)
			l->fd[1] = bx_pn_listen(AF_INET6, &in6addr_loopback, l->port, true);
	} else {
		l->fd[0] = bx_pn_listen(AF_INET6, &in6addr_any, l->port, false); /* both families */
		if (l->fd[0] < 0 && errno != EADDRINUSE)
			l->fd[0] = bx_pn_listen(AF_INET, &any4, l->port, true); /* no IPv6 here */
		e = errno;
	}
	if (bx_pn_held(l)) {
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
	struct bx_pn_sockets *k = &pn->k;
	for (int i = 0; i < k->nlis;) {
		const struct bx_podport *g = bx_portset_find(&pn->guest, k->lis[i].port);
		if (g && g->loopback == k->lis[i].loopback)
			i++;
		else
			bx_pn_remove(k, i);
	}
	for (int i = 0; i < pn->guest.n; i++) {
		struct bx_pn_listener *l = bx_pn_find(k, pn->guest.p[i].port);
		if (l || (l = bx_pn_add(k, pn->guest.p[i].port, pn->guest.p[i].loopback)))
			take(s, pn, l);
	}
}

static void scan(struct shim *s, struct shim_podnet *pn)
{
	sync_listeners(s, pn);
	struct bx_portset all, set = {0};
	bx_pn_read_listeners(&all);
	for (int i = 0; i < all.n; i++) {
		const struct bx_pn_listener *l = bx_pn_find(&pn->k, all.p[i].port);
		if (!l || !bx_pn_held(l)) /* ours are the box's own */
			bx_portset_add(&set, all.p[i].port, all.p[i].loopback);
	}
	if (pn->told && bx_portset_equal(&set, &pn->told_set))
		return;
	if (bx_pn_queue_set(&pn->out, BX_M_POD_PORTS, &set) == 0) { /* else the next scan tries again */
		pn->told_set = set;
		pn->told = true;
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
	if (!pn || !BX_PORT_IS_TCP(ch->port) || !bx_portset_find(&pn->told_set, (uint16_t)(ch->port - BX_PORT_TCP_BASE)))
		return ECONNREFUSED; /* only what the pod serves, and only for a pod's box */
	return bx_pn_connect(&pn->k, ch);
}

void shim_podnet_on_open_result(struct shim *s, struct bx_chan *ch, int errnum)
{
	if (errnum && ch->user) /* nothing listens there in the guest any more */
		bx_relay_end(&s->mux, ch->user);
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
		struct bx_portset set;
		if (m.kind == BX_M_LISTENING && bx_portset_decode(&set, m.payload, m.len, &err) == 0) {
			pn->guest = set;
			sync_listeners(s, pn);
		} else if (!pn->bad_noted) {
			pn->bad_noted = true;
			shim_log(s, true, "podnet: the guest sent a malformed port set: ignored (and any more, unlogged)");
		}
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
		struct bx_chan *ch = pn ? bx_mux_open(&s->mux, BX_PORT_PODNET, NULL) : NULL;
		if (!ch) {
			free(pn);
			return;
		}
		bx_msgbuf_init(&pn->in);
		bx_pn_init(&pn->k, &s->mux);
		pn->ctl_id = ch->id;
		s->podnet = pn;
	}
	struct shim_podnet *pn = s->podnet;
	if (pn->ctl_id && now >= pn->scan_at_ms) {
		scan(s, pn);
		pn->scan_at_ms = now + SCAN_MS;
	}
	bx_pn_flush(&s->mux, pn->ctl_id, &pn->out);
}

long long shim_podnet_wake(const struct shim *s)
{
	return s->podnet && s->podnet->ctl_id ? s->podnet->scan_at_ms : 0;
}

size_t shim_podnet_poll_fill(struct shim *s, struct pollfd *p, size_t cap)
{
	return s->podnet ? bx_pn_poll_fill(&s->podnet->k, p, cap) : 0;
}

void shim_podnet_poll_handle(struct shim *s, const struct pollfd *p, size_t n)
{
	if (s->podnet)
		bx_pn_poll_handle(&s->podnet->k, p, n);
}

void shim_podnet_stop(struct shim *s)
{
	struct shim_podnet *pn = s->podnet;
	if (!pn)
		return;
	bx_pn_close_all(&pn->k);
	bx_msgbuf_free(&pn->in);
	bx_bytes_free(&pn->out);
	free(pn);
	s->podnet = NULL;
}
