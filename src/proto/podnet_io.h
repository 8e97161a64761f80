/* The sockets of a pod's port following (podnet.h), the same at both ends,
 * the agent's and the shim's: a table of listeners (a port on one or two
 * sockets), the connections relayed over the mux (relay.h), and the reading
 * of the network namespace's own TCP listeners. Each end decides which
 * ports to listen on and where; what a listener accepts always becomes a
 * channel to BX_PORT_TCP_BASE + its port, and a channel the peer opens
 * there is connected to the namespace's listener of that port. */
#ifndef BOXVM_PODNET_IO_H
#define BOXVM_PODNET_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/bytes.h"
#include "mux.h"
#include "podnet.h"
#include "relay.h"

struct pollfd;

struct bx_pn_listener {
	uint16_t port;
	bool loopback; /* taken on the loopback only */
	bool noted;    /* the owner logged that it could not be taken */
	int fd[2];     /* -1: none */
	int pidx[2];
};

struct bx_pn_conn {
	struct bx_pn_conn *next;
	struct bx_relay r;
	int pidx;
};

struct bx_pn_sockets {
	struct bx_mux *mux;
	struct bx_pn_listener lis[BX_PODNET_MAX_PORTS];
	int nlis;
	struct bx_pn_conn *conns;
	int nconns;
};

/* pollfds bx_pn_poll_fill may use */
#define BX_PN_FDS_MAX (2 * BX_PODNET_MAX_PORTS + BX_PODNET_MAX_CONNS)

void bx_pn_init(struct bx_pn_sockets *k, struct bx_mux *m);
/* A non-blocking listening socket on addr:port (addr: 4 bytes for AF_INET,
 * 16 for AF_INET6), or -1 with errno. */
int bx_pn_listen(int family, const void *addr, uint16_t port, bool v6only);
struct bx_pn_listener *bx_pn_find(struct bx_pn_sockets *k, uint16_t port);
/* A new entry for port holding no socket yet (NULL: the table is full) */
struct bx_pn_listener *bx_pn_add(struct bx_pn_sockets *k, uint16_t port, bool loopback);
bool bx_pn_held(const struct bx_pn_listener *l);
/* Close entry i's sockets and remove it (the last entry takes its place) */
void bx_pn_remove(struct bx_pn_sockets *k, int i);
/* The TCP listeners of the caller's network namespace (/proc/net/tcp{,6}) */
void bx_pn_read_listeners(struct bx_portset *set);
/* Connect the peer's new channel ch (to BX_PORT_TCP_BASE + P) to this
 * namespace's listener of P and relay it: 0, or the errno to refuse it with. */
int bx_pn_connect(struct bx_pn_sockets *k, struct bx_chan *ch);
/* The poll loop: dead relays freed, then the fds into p (at most cap) */
size_t bx_pn_poll_fill(struct bx_pn_sockets *k, struct pollfd *p, size_t cap);
void bx_pn_poll_handle(struct bx_pn_sockets *k, const struct pollfd *p, size_t n);
/* Every relay ended and every listener closed */
void bx_pn_close_all(struct bx_pn_sockets *k);

/* The whole set as one message of kind in out, replacing one not yet sent
 * (each message is the whole set: an older one is stale); -1: no memory */
int bx_pn_queue_set(struct bx_bytes *out, uint8_t kind, const struct bx_portset *set);
/* out's message into channel id once its credit takes it whole (nothing
 * before the channel is open) */
void bx_pn_flush(struct bx_mux *m, uint32_t id, struct bx_bytes *out);

#endif
