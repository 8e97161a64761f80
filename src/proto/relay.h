/* One TCP connection relayed over one mux channel (pod port following,
 * podnet.h): the same on both ends, the agent's and the shim's. Non-blocking
 * socket I/O driven by the owner's poll loop; the owner keeps the relays,
 * polls bx_relay_events, calls bx_relay_io with what poll said, routes the
 * channel's callbacks (its user is the relay) and frees a relay once dead.
 *
 * Flow control as the exec relay's: the socket is read only within the
 * channel's send room, and channel bytes are credited back only once written
 * to the socket, so a relay holds at most one window (BX_MUX_WINDOW).
 * Half-closes pass through: the socket's EOF becomes the channel's EOF and
 * the channel's EOF shuts the socket's write side (a client that shuts its
 * side after the request still gets the answer). The side that has both
 * EOFs behind it closes the channel; a reset or any socket error ends it
 * at once, and a channel closed by the peer ends the relay once the bytes
 * it left are written. */
#ifndef BOXVM_RELAY_H
#define BOXVM_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/bytes.h"
#include "mux.h"

struct bx_relay {
	int fd;            /* the connection; -1 once closed */
	uint32_t chan_id;  /* 0: the channel is gone */
	bool rd_eof;       /* the socket gave EOF (sent on the channel) */
	bool wr_eof;       /* the channel gave EOF: shut the socket's write side once to_fd is out */
	bool wr_shut;
	bool dead;         /* over: nothing left open, the owner frees it */
	bool hup;          /* poll said the connection hung up: bytes may still wait to be read */
	struct bx_bytes to_fd; /* channel bytes not yet written to the socket */
};

/* fd: a connected (or connecting) non-blocking socket; ch: its channel
 * (ch->user is set to r) */
void bx_relay_init(struct bx_relay *r, int fd, struct bx_chan *ch);
/* poll events for r->fd (0 is still worth polling: errors and hang-ups),
 * or -1: leave it out of this poll (it hung up, and nothing can be done
 * with it until the channel has room again; polled, it would wake the loop
 * at once, again and again) */
int bx_relay_events(struct bx_mux *m, const struct bx_relay *r);
void bx_relay_io(struct bx_mux *m, struct bx_relay *r, short revents);
/* the channel's callbacks, for a channel whose user is r */
void bx_relay_data(struct bx_mux *m, struct bx_relay *r, const uint8_t *buf, size_t len);
void bx_relay_eof(struct bx_mux *m, struct bx_relay *r);
void bx_relay_closed(struct bx_mux *m, struct bx_relay *r);
/* end it now: the channel closed, the socket closed */
void bx_relay_end(struct bx_mux *m, struct bx_relay *r);

#endif
