/* The payload of BX_M_STATS_REPLY (src/proto/msg.h) (stats.h). */
#include "stats.h"

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

size_t bx_stats_encode(const struct bx_guest_stats *st, uint8_t *out)
{
	const uint64_t f[BX_STATS_FIELDS] = {st->mem_total, st->mem_available, st->pids,     st->net_rx,
					     st->net_tx,    st->blk_read,      st->blk_write, st->cpu_ns};
	for (int i = 0; i < BX_STATS_FIELDS; i++)
		put_u64(out + 8 * i, f[i]);
	return BX_STATS_SIZE;
}

int bx_stats_decode(const uint8_t *p, size_t len, struct bx_guest_stats *st, struct bx_err *err)
{
	if (len < BX_STATS_SIZE || len > BX_STATS_MAX_SIZE || len % 8)
		return bx_fail(err, 0, "malformed stats reply (%zu bytes, expected %u to %u in whole u64s)", len,
			       BX_STATS_SIZE, BX_STATS_MAX_SIZE);
	uint64_t *f[BX_STATS_FIELDS] = {&st->mem_total, &st->mem_available, &st->pids,     &st->net_rx,
					&st->net_tx,    &st->blk_read,      &st->blk_write, &st->cpu_ns};
	for (int i = 0; i < BX_STATS_FIELDS; i++)
		*f[i] = get_u64(p + 8 * i);
	return 0;
}
