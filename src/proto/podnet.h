/* Pod port following: boxvm-runtime runs each container of a pod in a VM
 * of its own, all in the pod's network namespace, so the pod's "localhost"
 * and its ports must be made by hand (docs/oci-runtime.md, "Pods"):
 *  - the guest tells its shim which TCP ports its processes listen on
 *    (LISTENING), and the shim listens on them in the pod's namespace,
 *    relaying each connection to the guest over a mux channel;
 *  - the shim tells the guest which ports the pod's other containers serve
 *    there (POD_PORTS), and the agent listens on them on the guest's
 *    loopback, relaying each connection to the pod's loopback over a mux
 *    channel the guest opens.
 * Both sides read /proc/net/tcp{,6} for the listeners; everything here is
 * pure (text and bytes in, sets out), bounded, and trusts neither input. */
#ifndef BOXVM_PODNET_H
#define BOXVM_PODNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../common/err.h"

/* The podnet control channel, opened by the host once the guest answers:
 * guest -> host LISTENING, host -> guest POD_PORTS, each the whole set. */
#define BX_PORT_PODNET 4092
/* A relayed TCP connection: a channel to BX_PORT_TCP_BASE + P. Opened by the
 * host: a connection to the guest's listener of port P; opened by the
 * guest: one to port P on the pod namespace's loopback. */
#define BX_PORT_TCP_BASE 0x10000u
#define BX_PORT_IS_TCP(p) ((p) > BX_PORT_TCP_BASE && (p) <= BX_PORT_TCP_BASE + 65535u)

/* A side follows at most this many ports (a hostile guest naming all
 * 65535 would otherwise cost the shim a socket each). */
#define BX_PODNET_MAX_PORTS 128
/* Relayed connections at once, per side and box. */
#define BX_PODNET_MAX_CONNS 256

struct bx_podport {
	uint16_t port;
	bool loopback; /* every listener of it is on a loopback address (127/8, ::1) */
};

/* Ascending by port, no port twice. */
struct bx_portset {
	int n;
	bool truncated; /* more ports were listening than BX_PODNET_MAX_PORTS */
	struct bx_podport p[BX_PODNET_MAX_PORTS];
};

/* The set's entry for port, or NULL. */
const struct bx_podport *bx_portset_find(const struct bx_portset *set, uint16_t port);
/* Add a listener of port (loopback: on a loopback address). A port that is
 * already there stays loopback only if this listener is one too. */
void bx_portset_add(struct bx_portset *set, uint16_t port, bool loopback);
bool bx_portset_equal(const struct bx_portset *a, const struct bx_portset *b);
/* The LISTEN sockets of a /proc/net/tcp (v6 false) or tcp6 text, added. */
void bx_portset_add_proc(struct bx_portset *set, const char *text, bool v6);

/* On the wire (LISTENING and POD_PORTS): per port u16 LE, then u8 flags
 * (bit 0: loopback), ascending. encode returns the bytes written (cap must
 * hold 3 per port); decode refuses anything else. */
#define BX_PODNET_WIRE_MAX (3u * BX_PODNET_MAX_PORTS)
size_t bx_portset_encode(const struct bx_portset *set, uint8_t *out, size_t cap);
int bx_portset_decode(struct bx_portset *set, const uint8_t *buf, size_t len, struct bx_err *err);

/* Where to connect to reach the listener of port found in the tcp (text4)
 * and tcp6 (text6) texts: its address, a wildcard one as the loopback of
 * its family (an IPv4 listener first). -1: nothing listens on port. */
int bx_podnet_listener_addr(const char *text4, const char *text6, uint16_t port, struct sockaddr_storage *ss,
			    socklen_t *len);

#endif
