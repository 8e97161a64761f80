/* boxvm-runtime events [--stats] [--interval DURATION] ID: runc's stats
 * events ({"type":"stats","id":ID,"data":{...}}, one JSON line each), from
 * the guest's own numbers (BX_M_STATS, src/client/stats_query.c): --stats
 * prints one and exits; without it one comes every interval (default 5s)
 * until the container stops, and runc's {"type":"oom","id":ID} within a
 * tenth of a second of the guest's OOM killer killing one of its processes
 * (the shim's count in BOX_DIR/oom_kills). What a VM has no
 * equivalent for (cgroup throttling, per-CPU times, hugetlb, intel_rdt)
 * stays empty. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../client/stats_query.h"
#include "../common/goduration.h"
#include "../common/paths.h"
#include "rt.h"

/* a guest answers in milliseconds; far above that is a wedged one */
#define STATS_DEADLINE_MS 5000

static json_t *stats_json(const struct rt_container *c, const struct bx_guest_stats *g)
{
	uint64_t used = g->mem_total > g->mem_available ? g->mem_total - g->mem_available : 0;
	return json_pack("{s:s,s:s,s:{s:{s:{s:I},s:{}},s:{s:{s:I,s:I}},s:{s:I},s:{s:[{s:I,s:I,s:s,s:s}]},s:{},s:{},"
			 "s:[{s:s,s:I,s:I}]}}",
			 "type", "stats", "id", c->id, "data", "cpu", "usage", "total", (json_int_t)g->cpu_ns, "throttling",
			 "memory", "usage", "limit", (json_int_t)g->mem_total, "usage", (json_int_t)used, "pids", "current",
			 (json_int_t)g->pids, "blkio", "ioServiceBytesRecursive", "major", (json_int_t)0, "value",
			 (json_int_t)(g->blk_read + g->blk_write), "op", "Total", "device", "", "hugetlb", "intel_rdt",
			 "network_interfaces", "name", "eth0", "rx_bytes", (json_int_t)g->net_rx, "tx_bytes",
			 (json_int_t)g->net_tx);
}

/* the monitor stands for the box's supervisor: alive while the container runs */
static bool query(const struct rt_container *c, struct bx_guest_stats *g)
{
	struct bx_box_record rec;
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.id, sizeof(rec.id), "%.64s", c->id);
	snprintf(rec.run_dir, sizeof(rec.run_dir), "%s", c->run_dir);
	rec.status = BX_BOX_RUNNING;
	rec.shim_pid = c->pid;
	rec.shim_start_time = c->pid_start;
	return bx_stats_query_once(&rec, STATS_DEADLINE_MS, g);
}

static int print_line(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return -1;
	printf("%s\n", text);
	free(text);
	return fflush(stdout) == 0 ? 0 : -1;
}

/* the container's OOM kills since the watch began: the shim's count in
 * BOX_DIR/oom_kills (a runtime box has no record, so no store events) */
struct oom_watch {
	char path[PATH_MAX];
	unsigned long long seen;
	const char *id;
};

static unsigned long long oom_count(const struct oom_watch *w)
{
	char buf[32];
	FILE *f = fopen(w->path, "re");
	unsigned long long n = 0;
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			n = strtoull(buf, NULL, 10);
		fclose(f);
	}
	return n;
}

static void oom_watch_start(struct oom_watch *w, const struct rt_container *c)
{
	w->id = c->id;
	if (bx_path_join(w->path, sizeof(w->path), NULL, "%s/oom_kills", c->box_dir) < 0)
		w->path[0] = '\0';
	w->seen = w->path[0] ? oom_count(w) : 0; /* what came before is not news */
}

/* kills since the last poll are told once (a guest can make them by the thousand) */
static int oom_watch_poll(struct oom_watch *w)
{
	if (!w->path[0])
		return 0;
	unsigned long long n = oom_count(w);
	if (n <= w->seen)
		return 0;
	w->seen = n;
	return print_line(json_pack("{s:s,s:s}", "type", "oom", "id", w->id));
}

int rt_cmd_events(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_opt o[] = {{"stats", 0, false, NULL}, {"interval", 0, true, NULL}};
	char *pos[1];
	int npos = rt_opts_parse("events", argc, argv, o, 2, pos, 1);
	if (npos < 0)
		return 1;
	if (npos != 1) {
		rt_error("events: requires exactly 1 argument (the container ID)");
		return 1;
	}
	long long interval_ns = 5000000000LL;
	const char *iv = rt_opt_get(o, 2, "interval");
	if (iv && (bx_goduration_parse(iv, &interval_ns, NULL) < 0 || interval_ns <= 0)) {
		rt_error("invalid interval %s: want a duration such as 5s", iv);
		return 1;
	}
	struct rt_container c;
	struct bx_err err;
	if (rt_container_load(g, pos[0], &c, &err) < 0) {
		rt_error("%s", err.msg);
		rt_container_free(&c);
		return 1;
	}
	int rc = 0;
	bool once = rt_opt_get(o, 2, "stats") != NULL;
	struct oom_watch w = {0};
	if (!once)
		oom_watch_start(&w, &c);
	for (bool first = true;; first = false) {
		enum rt_status s = rt_container_status(&c);
		if (s != RT_RUNNING && s != RT_PAUSED) {
			if (first) { /* runc's words */
				rt_error("container with id %s is not running", c.id);
				rc = 1;
			} else if (oom_watch_poll(&w) < 0) { /* an OOM kill that ended it */
				rc = 1;
			}
			break;
		}
		struct bx_guest_stats st;
		if (s == RT_RUNNING && query(&c, &st)) {
			if (print_line(stats_json(&c, &st)) < 0) {
				rc = 1;
				break;
			}
		} else if (once) {
			rt_error("container %s: its guest did not answer the stats query", c.id);
			rc = 1;
		}
		if (once)
			break;
		/* the interval in slices: an OOM kill is told within one */
		long long left = interval_ns;
		while (left > 0 && rc == 0) {
			long long slice = left < 100000000LL ? left : 100000000LL;
			struct timespec ts = {.tv_sec = 0, .tv_nsec = slice};
			while (nanosleep(&ts, &ts) < 0)
				;
			left -= slice;
			if (oom_watch_poll(&w) < 0)
				rc = 1;
		}
		if (rc)
			break;
	}
	rt_container_free(&c);
	return rc;
}
