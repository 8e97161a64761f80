/* How `boxvm stats` shows a box (pure) (stats_view.h). */
#include "stats_view.h"

#include <stdio.h>

static void custom_size(double v, double base, const char *const *units, int nunits, int prec, char *out,
			size_t size)
{
	int i = 0;
	while (v >= base && i < nunits - 1) {
		v /= base;
		i++;
	}
	snprintf(out, size, "%.*g%s", prec, v, units[i]);
}

void cli_size_binary(double bytes, char *out, size_t size)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
	custom_size(bytes, 1024.0, u, 9, 4, out, size);
}

void cli_size_decimal(double bytes, char *out, size_t size)
{
	static const char *const u[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
	custom_size(bytes, 1000.0, u, 9, 3, out, size);
}

void cli_size_human(double bytes, char *out, size_t size)
{
	static const char *const u[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
	custom_size(bytes, 1000.0, u, 9, 4, out, size);
}

static void pair(void (*fmt)(double, char *, size_t), double a, double b, char *out, size_t size)
{
	char x[32], y[32];
	fmt(a, x, sizeof(x));
	fmt(b, y, sizeof(y));
	snprintf(out, size, "%s / %s", x, y);
}

json_t *cli_stats_json(const char *container, const char *id, const char *name, const struct cli_stats_sample *s)
{
	char cpu[32] = "--", memperc[32] = "--", mem[80] = "-- / --", net[80] = "--", blk[80] = "--", pids[32] = "--";
	struct bx_guest_stats zero = {0};
	const struct bx_guest_stats *g = s->running ? &s->g : &zero;
	if (!s->running || s->cpu_known)
		snprintf(cpu, sizeof(cpu), "%.2f%%", s->running ? s->cpu_pct : 0.0);
	if (!s->running || s->guest_known) {
		uint64_t used = g->mem_total > g->mem_available ? g->mem_total - g->mem_available : 0;
		pair(cli_size_binary, (double)used, (double)g->mem_total, mem, sizeof(mem));
		snprintf(memperc, sizeof(memperc), "%.2f%%", g->mem_total ? 100.0 * (double)used / (double)g->mem_total : 0.0);
		pair(cli_size_decimal, (double)g->net_rx, (double)g->net_tx, net, sizeof(net));
		pair(cli_size_decimal, (double)g->blk_read, (double)g->blk_write, blk, sizeof(blk));
		snprintf(pids, sizeof(pids), "%llu", (unsigned long long)g->pids);
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "BlockIO", blk, "CPUPerc", cpu, "Container",
			 container, "ID", id, "MemPerc", memperc, "MemUsage", mem, "Name", name, "NetIO", net, "PIDs",
			 pids);
}
