/* Watching a stream of session messages (msg.h) as it goes by, without
 * holding it: each header is read, the payload of a kind asked for is
 * collected (at most BX_MSG_MAX), any other is skipped as it passes. The
 * shim uses it to see an exec session's REQ, STARTED and EXIT (pure). */
#ifndef BOXVM_MSGSCAN_H
#define BOXVM_MSGSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

struct bx_msgscan {
	uint32_t want;          /* bit K: collect kind K */
	uint32_t max;           /* a longer payload is skipped, not collected */
	uint8_t hdr[BX_MSG_HDR_SIZE];
	size_t hdr_have;
	uint8_t kind;
	uint32_t len, left;     /* the current message's payload, and what is still to come */
	uint8_t *buf;           /* its payload, when collected */
	bool broken;            /* not a message stream (a length over BX_MSG_MAX): nothing more is seen */
};

typedef void (*bx_msgscan_fn)(void *ctx, uint8_t kind, const uint8_t *payload, uint32_t len);

/* want: a mask of (1u << kind) for the kinds to hand to fn, when their
 * payload is at most max bytes (what a guest sends: only as much as the
 * watcher needs is ever held) */
void bx_msgscan_init(struct bx_msgscan *s, uint32_t want, uint32_t max);
void bx_msgscan_feed(struct bx_msgscan *s, const uint8_t *p, size_t n, bx_msgscan_fn fn, void *ctx);
void bx_msgscan_free(struct bx_msgscan *s);

#endif
