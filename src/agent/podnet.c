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
 * tried again at the next scan, as the port may be freed. The sockets are
 * src/proto/podnet_io.c's, as the shim's. */
#include "agent.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../proto/podnet_io.h"

#define SCAN_MS 500

struct agent_podnet {
	uint32_t ctl_id;
	struct bx_msgbuf in;
	struct bx_bytes out;               /* the LISTENING not yet sent */
	bool told;                         /* a LISTENING went out on this channel */
	struct bx_portset told_set;
	struct bx_portset wanted;          /* the last POD_PORTS */
	struct bx_pn_sockets k;
	uint64_t scan_at_ms;
};

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
		bx_pn_init(&ag->podnet->k, &ag->mux);
	}
	return ag->podnet;
}

/* Hold the loopback listeners of every wanted port not yet held; drop the
 * ones no longer wanted. */
static void sync_listeners(struct agent_podnet *pn)
{
	struct bx_pn_sockets *k = &pn->k;
	for (int i = 0; i < k->nlis;) {
		if (bx_portset_find(&pn->wanted, k->lis[i].port)) {
			i++;
			continue;
		}
		agent_info("podnet: port %u no longer served in the pod", k->lis[i].port);
		bx_pn_remove(k, i);
	}
	uint32_t lo4 = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < pn->wanted.n; i++) {
		uint16_t port = pn->wanted.p[i].port;
		struct bx_pn_listener *l = bx_pn_find(k, port);
		if (!l && !(l = bx_pn_add(k, port, true)))
			break;
		if (bx_pn_held(l))
			continue;
		l->fd[0] = bx_pn_listen(AF_INET, &lo4, port, true);
		if (l->fd[0] >= 0) /* no IPv6 in the guest: 127.0.0.1 alone */
			l->fd[1] = bx_pn_listen(AF_INET6, &in6addr_loopback, port, true);
		if (bx_pn_held(l))
			agent_info("podnet: the pod's port %u on the loopback", port);
	}
}

#ifdef BOXVM_TEST_HOOKS
/* boxvm.test_hostile=podnet (hostile.c): lies instead of the box's ports */
static void scan_hostile(struct agent *ag, struct agent_podnet *pn)
{
	static unsigned round;
	struct bx_portset set = {0};
	round++;
	for (int i = 0; i < BX_PODNET_MAX_PORTS; i++)
		bx_portset_add(&set, (uint16_t)(30000 + (round * 7) % 64 + i), round % 2);
	if (bx_pn_queue_set(&pn->out, BX_M_LISTENING, &set) < 0)
		agent_fatal("out of memory");
	if (round % 3 == 0) { /* out of order: the host must refuse it */
		uint8_t *p = bx_bytes_data(&pn->out) + BX_MSG_HDR_SIZE;
		uint8_t t[3];
		memcpy(t, p, 3);
		memcpy(p, p + 3, 3);
		memcpy(p + 3, t, 3);
	}
	bx_mux_open(&ag->mux, BX_PORT_TCP_BASE + 1, NULL); /* port 1: nothing serves it in the pod */
	agent_err("test_hostile=podnet: round %u", round);
}
#endif

static void scan(struct agent *ag, struct agent_podnet *pn)
{
#ifdef BOXVM_TEST_HOOKS
	if (ag->hostile == HOSTILE_PODNET) {
		scan_hostile(ag, pn);
		return;
	}
#endif
	sync_listeners(pn);
	struct bx_portset all, set = {0};
	bx_pn_read_listeners(&all);
	for (int i = 0; i < all.n; i++) {
		const struct bx_pn_listener *l = bx_pn_find(&pn->k, all.p[i].port);
		if (!l || !bx_pn_held(l)) /* ours are the pod's, not the box's */
			bx_portset_add(&set, all.p[i].port, all.p[i].loopback);
	}
	set.truncated = all.truncated;
	if (pn->told && bx_portset_equal(&set, &pn->told_set))
		return;
	if (set.truncated && !(pn->told && pn->told_set.truncated))
		agent_err("podnet: the box listens on more than %d TCP ports: the rest are not served in the pod",
			  BX_PODNET_MAX_PORTS);
	if (bx_pn_queue_set(&pn->out, BX_M_LISTENING, &set) < 0)
		agent_fatal("out of memory");
	pn->told_set = set;
	pn->told = true;
}

int agent_podnet_on_open(struct agent *ag, struct bx_chan *ch)
{
	struct agent_podnet *pn = pn_of(ag);
	if (BX_PORT_IS_TCP(ch->port))
		return bx_pn_connect(&pn->k, ch);
	if (pn->ctl_id)
		return EBUSY;
	pn->ctl_id = ch->id;
	pn->scan_at_ms = agent_now_ms();
	pn->told = false; /* the new channel hears the whole set */
	agent_info("podnet: following the box's ports for its pod");
	return 0;
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
		if (m.kind != BX_M_POD_PORTS)
			agent_err("podnet: unexpected message kind %u", m.kind);
		else if (bx_portset_decode(&pn->wanted, m.payload, m.len, &err) < 0)
			agent_err("podnet: %s", err.msg);
		else
			sync_listeners(pn);
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
#ifdef BOXVM_TEST_HOOKS
	if (ag->hostile == HOSTILE_PODNET && errnum) /* for the test to see the host refuse it */
		agent_err("test_hostile=podnet: the channel to port %u was refused", ch->port - BX_PORT_TCP_BASE);
#endif
	if (errnum && ch->user) /* the pod's loopback refused: the client's connection ends */
		bx_relay_end(&ag->mux, ch->user);
}

size_t agent_podnet_nfds(const struct agent *ag)
{
	return ag->podnet ? BX_PN_FDS_MAX : 0;
}

size_t agent_podnet_poll_fill(struct agent *ag, struct pollfd *p, uint64_t now, uint64_t *wake)
{
	struct agent_podnet *pn = ag->podnet;
	if (!pn)
		return 0;
	if (pn->ctl_id && now >= pn->scan_at_ms) {
		scan(ag, pn);
		pn->scan_at_ms = now + SCAN_MS;
	}
	bx_pn_flush(&ag->mux, pn->ctl_id, &pn->out);
	if (pn->ctl_id && (!*wake || pn->scan_at_ms < *wake))
		*wake = pn->scan_at_ms;
	return bx_pn_poll_fill(&pn->k, p, BX_PN_FDS_MAX);
}

void agent_podnet_poll_handle(struct agent *ag, const struct pollfd *p, size_t n)
{
	if (ag->podnet)
		bx_pn_poll_handle(&ag->podnet->k, p, n);
}
