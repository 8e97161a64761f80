/* Asking a running box's guest for its numbers (BX_M_STATS on the exec
 * service, src/proto/stats.h), for `boxvm stats` (many boxes at once, each
 * query driven by its caller's poll) and the Engine API's stats (one box). */
#ifndef BOXVM_CLIENT_STATS_QUERY_H
#define BOXVM_CLIENT_STATS_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "../proto/msg.h"
#include "../proto/stats.h"
#include "../store/state.h"

struct bx_stats_query {
	int sock;      /* -1: ended (or never started) */
	struct bx_msgbuf mb;
	size_t got;    /* bytes so far (at most BX_STATS_QUERY_MAX) */
	bool known;    /* the guest answered: g holds its numbers */
	struct bx_guest_stats g;
};

/* Send the query (nothing to send for a box that is not running or is
 * paused: q->sock stays -1, known false). */
void bx_stats_query_start(struct bx_stats_query *q, const struct bx_box_record *rec);
/* q->sock is readable: read; the query ends with STATS_REPLY (known), or an
 * ERROR or EOF (booting, stopping, an agent without STATS). */
void bx_stats_query_read(struct bx_stats_query *q);
/* End it (past its deadline: unknown). */
void bx_stats_query_end(struct bx_stats_query *q);
/* All of it for one box, within deadline_ms; true when the guest answered. */
bool bx_stats_query_once(const struct bx_box_record *rec, int deadline_ms, struct bx_guest_stats *g);

#endif
