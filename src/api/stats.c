/* GET /containers/ID/stats: Docker's stats JSON (stream=true: one object a
 * second; stream=false: one, after two samples a second apart; one-shot:
 * one sample at once), from boxvm's two sources as `boxvm stats` has them:
 * the CPU time of the box's QEMU process (bx_qemu_cpu_ns) and the guest's
 * own numbers (bx_stats_query_once).
 *
 * CPU: Docker's client computes (cpu delta / system delta) * online_cpus;
 * with system_cpu_usage the host's monotonic clock in ns and online_cpus 1
 * that is QEMU's CPU time in % of one host CPU, the CPU % `boxvm stats`
 * prints. Memory: usage MemTotal - MemAvailable, limit MemTotal. Like the
 * other streams it runs in its connection's thread and ends when the client
 * hangs up (a wait polls the client's socket). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "../client/stats_query.h"
#include "../common/clock.h"
#include "../store/state.h"
#include "../store/vmproc.h"

#define INTERVAL_MS 1000
#define GUEST_DEADLINE_MS 3000

struct sample {
	char read[64];  /* RFC 3339 with ns */
	bool running;
	uint64_t cpu_ns, system_ns;
	bool guest_known;
	struct bx_guest_stats g;
};

struct stats_stream {
	struct bx_paths p;
	char id[65];
	bool stream, one_shot;
	int client_fd;
	int frames;              /* sent so far */
	bool have_pre;
	struct sample pre;
	char *pend;              /* the JSON not yet handed to MHD */
	size_t pend_len, pend_off;
};

static void rfc3339(char *out, size_t size)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%.20s.%09ldZ", base, ts.tv_nsec % 1000000000L);
}

/* false: the box is gone */
static bool take(struct stats_stream *s, struct sample *out)
{
	struct bx_box_record rec;
	if (bx_state_lookup(&s->p, s->id, &rec, NULL) < 0)
		return false;
	memset(out, 0, sizeof(*out));
	rfc3339(out->read, sizeof(out->read));
	out->running = bx_box_is_running(&rec);
	if (out->running && bx_qemu_cpu_ns(rec.run_dir, &out->cpu_ns) < 0)
		out->cpu_ns = 0;
	out->system_ns = (uint64_t)bx_mono_ns();
	out->guest_known = out->running && bx_stats_query_once(&rec, GUEST_DEADLINE_MS, &out->g);
	return true;
}

static json_t *cpu_json(const struct sample *x)
{
	/* a sample not taken (the first of a stream): zeros, as Docker's precpu_stats */
	return json_pack("{s:{s:I,s:I,s:I},s:I,s:i,s:{s:i,s:i,s:i}}", "cpu_usage", "total_usage",
			 (json_int_t)(x ? x->cpu_ns : 0), "usage_in_kernelmode", (json_int_t)0, "usage_in_usermode",
			 (json_int_t)0, "system_cpu_usage", (json_int_t)(x ? x->system_ns : 0), "online_cpus", x ? 1 : 0,
			 "throttling_data", "periods", 0, "throttled_periods", 0, "throttled_time", 0);
}

static json_t *frame_json(const struct stats_stream *s, const char *name, const struct sample *x)
{
	const struct bx_guest_stats *g = &x->g;
	bool k = x->guest_known;
	uint64_t used = k && g->mem_total > g->mem_available ? g->mem_total - g->mem_available : 0;
	json_t *blk = json_array();
	if (k) {
		json_array_append_new(blk, json_pack("{s:i,s:i,s:s,s:I}", "major", 0, "minor", 0, "op", "read", "value",
						     (json_int_t)g->blk_read));
		json_array_append_new(blk, json_pack("{s:i,s:i,s:s,s:I}", "major", 0, "minor", 0, "op", "write", "value",
						     (json_int_t)g->blk_write));
	}
	json_t *nets = json_object();
	if (k)
		json_object_set_new(nets, "eth0",
				    json_pack("{s:I,s:i,s:i,s:i,s:I,s:i,s:i,s:i}", "rx_bytes", (json_int_t)g->net_rx,
					      "rx_packets", 0, "rx_errors", 0, "rx_dropped", 0, "tx_bytes",
					      (json_int_t)g->net_tx, "tx_packets", 0, "tx_errors", 0, "tx_dropped", 0));
	char name_slash[300];
	snprintf(name_slash, sizeof(name_slash), "/%s", name);
	return json_pack("{s:s,s:s,s:{s:I},s:{s:o,s:n,s:n,s:n,s:n,s:n,s:n,s:n},s:i,s:{},s:o,s:o,s:{s:I,s:{},s:I},"
			 "s:s,s:s,s:o}",
			 "read", x->read, "preread", s->have_pre ? s->pre.read : "0001-01-01T00:00:00Z", "pids_stats",
			 "current", (json_int_t)(k ? g->pids : 0), "blkio_stats", "io_service_bytes_recursive", blk,
			 "io_serviced_recursive", "io_queue_recursive", "io_service_time_recursive",
			 "io_wait_time_recursive", "io_merged_recursive", "io_time_recursive", "sectors_recursive",
			 "num_procs", 0, "storage_stats", "cpu_stats", cpu_json(x), "precpu_stats",
			 cpu_json(s->have_pre ? &s->pre : NULL), "memory_stats", "usage", (json_int_t)used, "stats",
			 "limit", (json_int_t)(k ? g->mem_total : 0), "name", name_slash, "id", s->id, "networks", nets);
}

/* until the interval has passed; false when the client hung up */
static bool pause_interval(const struct stats_stream *s)
{
	long long end = bx_mono_ns() + INTERVAL_MS * 1000000LL;
	for (;;) {
		long long left = (end - bx_mono_ns()) / 1000000LL;
		if (left <= 0)
			return true;
		struct pollfd pf = {.fd = s->client_fd, .events = 0};
		int n = poll(&pf, s->client_fd >= 0 ? 1 : 0, (int)left);
		if (n > 0)
			return false;
		if (n < 0 && errno != EINTR)
			return true;
	}
}

static ssize_t stats_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stats_stream *s = cls;
	if (s->pend_off < s->pend_len) {
		size_t n = s->pend_len - s->pend_off;
		if (n > max)
			n = max;
		memcpy(buf, s->pend + s->pend_off, n);
		s->pend_off += n;
		return (ssize_t)n;
	}
	if (s->frames && !s->stream)
		return MHD_CONTENT_READER_END_OF_STREAM;
	struct sample x;
	/* stream=false (not one-shot): its one frame carries a measured interval */
	if (!s->stream && !s->one_shot && !s->have_pre) {
		if (!take(s, &s->pre))
			return MHD_CONTENT_READER_END_OF_STREAM;
		s->have_pre = true;
	}
	if ((s->frames || (s->have_pre && !s->stream)) && !pause_interval(s))
		return MHD_CONTENT_READER_END_WITH_ERROR; /* the client hung up */
	if (!take(s, &x))
		return MHD_CONTENT_READER_END_OF_STREAM; /* removed: the stream ends, as Docker's */
	struct bx_box_record rec;
	const char *name = bx_state_lookup(&s->p, s->id, &rec, NULL) == 0 ? rec.name : "";
	json_t *o = frame_json(s, name, &x);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!text)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	free(s->pend);
	s->pend_len = strlen(text) + 1;
	text[s->pend_len - 1] = '\n';
	s->pend = text;
	s->pend_off = 0;
	s->pre = x;
	s->have_pre = true;
	s->frames++;
	return stats_read(cls, pos, buf, max);
}

static void stats_free(void *cls)
{
	struct stats_stream *s = cls;
	free(s->pend);
	free(s);
}

enum MHD_Result api_stats(struct api_req *r, const char *ref)
{
	struct bx_err err = {0};
	struct bx_box_record rec;
	if (bx_state_lookup(&r->p, ref, &rec, &err) < 0)
		return err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", ref) : api_fail(r, &err);
	struct stats_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return api_error(r, 500, "out of memory");
	s->p = r->p;
	snprintf(s->id, sizeof(s->id), "%s", rec.id);
	const char *st = api_arg(r, "stream");
	s->stream = !st || api_arg_bool(r, "stream"); /* Docker: streams unless stream=false */
	s->one_shot = api_arg_bool(r, "one-shot");
	if (s->one_shot && s->stream) {
		free(s);
		return api_error(r, 400, "cannot have stream=true and one-shot=true");
	}
	s->client_fd = api_client_fd(r);
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stats_read, s, stats_free);
	if (!resp) {
		free(s);
		return api_error(r, 500, "out of memory");
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return api_reply(r, 200, resp);
}
