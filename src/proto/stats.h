/* The payload of BX_M_STATS_REPLY (src/proto/msg.h): the guest's own numbers,
 * as the agent reads them from /proc, for `boxvm stats`.
 *
 * Wire format: a sequence of u64 LE, in the order of struct bx_guest_stats.
 * Fields are only ever appended; a decoder takes the ones it knows and
 * ignores any that follow, so an older CLI still reads a newer agent. */
#ifndef BOXVM_PROTO_STATS_H
#define BOXVM_PROTO_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

struct bx_guest_stats {
	uint64_t mem_total;     /* bytes: the box's limit: its cgroup's memory.max, else MemTotal (/proc/meminfo) */
	uint64_t mem_available; /* bytes: mem_total less the box cgroup's memory.current (no cgroup: MemAvailable) */
	uint64_t pids;          /* tasks (processes and their threads) of the box: its cgroup's pids.current
	                         * (agent and kernel threads excluded) */
	uint64_t net_rx;        /* bytes received on every interface but loopback */
	uint64_t net_tx;        /* bytes sent on every interface but loopback */
	uint64_t blk_read;      /* bytes read from block devices (0: virtiofs roots have none) */
	uint64_t blk_write;     /* bytes written to block devices */
	uint64_t cpu_ns;        /* the guest's non-idle CPU time over all vCPUs since boot */
};

#define BX_STATS_FIELDS 8
#define BX_STATS_SIZE (BX_STATS_FIELDS * 8)
/* The guest answers, so it decides how long a reply is: room for 512 fields
 * of future agents, and no more; a longer reply is malformed. */
#define BX_STATS_MAX_SIZE 4096u
/* All a reader takes on one stats query: the reply, an ERROR, an EXIT and
 * their headers. A guest that sends more is cut off there (the box's numbers
 * show as unknown) instead of being buffered up to BX_MSG_MAX. */
#define BX_STATS_QUERY_MAX (BX_STATS_MAX_SIZE + 2048u)

/* out must hold BX_STATS_SIZE bytes; returns BX_STATS_SIZE. */
size_t bx_stats_encode(const struct bx_guest_stats *st, uint8_t *out);
/* Fails when fewer than BX_STATS_SIZE or more than BX_STATS_MAX_SIZE bytes
 * came, or len is not whole u64s. */
int bx_stats_decode(const uint8_t *p, size_t len, struct bx_guest_stats *st, struct bx_err *err);

#endif
