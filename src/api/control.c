/* /containers/ID/ACTION of the Engine API that control a box: restart,
 * pause, unpause, rename, update, top. Each calls the box library as the
 * CLI's command of the same name does (bx_box_restart, bx_box_pause,
 * bx_box_rename, bx_box_update, bx_top_spec), with Docker's words and
 * status codes. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "../box/control.h"
#include "../box/rename.h"
#include "../box/update.h"
#include "../client/exec_client.h"
#include "../client/relay.h"
#include "../client/top.h"
#include "../store/boxconfig.h"
#include "../store/state.h"

/* what ps may print before top refuses it */
#define TOP_OUTPUT_MAX (4 << 20)

bool api_timeout_arg(const struct api_req *r, long *timeout)
{
	const char *t = api_arg(r, "t");
	char *end = NULL;
	*timeout = t ? strtol(t, &end, 10) : -1;
	return !t || (end != t && !*end && *timeout >= -1 && *timeout <= 86400);
}

static enum MHD_Result restart(struct api_req *r, struct bx_box_record *rec)
{
	struct bx_err err = {0};
	long timeout;
	if (!api_timeout_arg(r, &timeout))
		return api_error(r, 400, "invalid t '%s': use a number of seconds", api_arg(r, "t"));
	int sig = 0;
	const char *s = api_arg(r, "signal");
	if (s && *s && bx_signal_parse(s, &sig, &err) < 0)
		return api_error(r, 400, "%s", err.msg);
	if (bx_box_restart(&r->p, rec, sig, (int)timeout, &err) < 0)
		return api_error(r, 500, "Cannot restart container %s: %s", rec->name, err.msg);
	return api_empty(r, 204);
}

static enum MHD_Result pause_box(struct api_req *r, const char *ref, struct bx_box_record *rec, bool pause)
{
	struct bx_err err = {0};
	/* Docker's conflicts first, in its words */
	if (!bx_box_is_running(rec))
		return api_error(r, 409, "Container %s is not running", rec->id);
	if (pause && rec->status == BX_BOX_PAUSED)
		return api_error(r, 409, "Container %s is already paused", rec->id);
	if (!pause && rec->status != BX_BOX_PAUSED)
		return api_error(r, 409, "Container %s is not paused", rec->id);
	if (bx_box_pause(ref, rec, pause, &err) < 0)
		return api_fail(r, &err);
	return api_empty(r, 204);
}

static enum MHD_Result rename_box(struct api_req *r, struct bx_box_record *rec)
{
	struct bx_err err = {0};
	const char *to = api_arg(r, "name");
	if (!to || !*to)
		return api_error(r, 400, "Neither old nor new names may be empty");
	if (*to == '/')
		to++;
	if (bx_box_rename(&r->p, rec, to, &err) < 0)
		return api_fail(r, &err); /* taken: 409; bad or the same: 400 */
	return api_empty(r, 204);
}

/* A number of the body that is present and not 0 ... Docker's update
 * leaves a field that is absent or 0 alone (its types' zero values). */
static bool body_int(json_t *body, const char *key, long long *out)
{
	json_t *v = json_object_get(body, key);
	*out = json_is_integer(v) ? json_integer_value(v) : 0;
	return json_is_integer(v) && *out != 0;
}

/* POST /containers/ID/update: Docker's body (Memory, MemoryReservation,
 * NanoCpus, CpuShares, CpusetCpus, PidsLimit, RestartPolicy). */
static enum MHD_Result update_box(struct api_req *r, struct bx_box_record *rec)
{
	struct bx_err err = {0};
	json_error_t jerr;
	json_t *body = json_loadb(r->body ? r->body : "", r->body_len, 0, &jerr);
	if (!json_is_object(body)) {
		json_decref(body);
		return api_error(r, 400, "invalid JSON body: %s", jerr.text);
	}
	struct bx_update u = {0};
	u.memory_set = body_int(body, "Memory", &u.memory);
	u.reservation_set = body_int(body, "MemoryReservation", &u.reservation);
	u.cpus_set = body_int(body, "NanoCpus", &u.nano_cpus);
	u.shares_set = body_int(body, "CpuShares", &u.cpu_shares);
	u.pids_set = body_int(body, "PidsLimit", &u.pids_limit);
	const char *cpuset = json_string_value(json_object_get(body, "CpusetCpus"));
	if (cpuset && *cpuset) {
		u.cpuset_set = true;
		snprintf(u.cpuset, sizeof(u.cpuset), "%s", cpuset);
	}
	json_t *rp = json_object_get(body, "RestartPolicy");
	const char *name = json_string_value(json_object_get(rp, "Name"));
	int rc = 0;
	if (name && *name) {
		char policy[64];
		long long max = json_integer_value(json_object_get(rp, "MaximumRetryCount"));
		if (!strcmp(name, "on-failure") && max > 0)
			snprintf(policy, sizeof(policy), "%s:%lld", name, max);
		else
			snprintf(policy, sizeof(policy), "%.40s", name);
		u.restart_set = true;
		if ((rc = bx_restart_policy_parse(policy, &u.restart, &err)) < 0)
			err.errnum = EINVAL;
	}
	json_decref(body);
	if (rc == 0)
		rc = bx_box_update(&r->p, rec->id, &u, &err);
	if (rc < 0)
		return api_fail(r, &err); /* Docker's checks: 400 */
	return api_json(r, 200, json_pack("{s:[]}", "Warnings"));
}

/* ps's output, gathered (bounded) */
struct gather {
	char *buf;
	size_t len;
	bool too_big;
};

static int gather_out(void *ctx, int which, const uint8_t *p, size_t len)
{
	struct gather *g = ctx;
	if (which)
		return 0; /* ps's complaints: its exit code tells */
	if (g->too_big || g->len + len > TOP_OUTPUT_MAX) {
		g->too_big = true;
		return 0;
	}
	char *nb = realloc(g->buf, g->len + len + 1);
	if (!nb) {
		g->too_big = true;
		return 0;
	}
	memcpy(nb + g->len, p, len);
	g->buf = nb;
	g->len += len;
	g->buf[g->len] = 0;
	return 0;
}

/* Docker's parse of ps's output: the first line's words are the titles; a
 * process's words, the last title taking the rest of its line (the command). */
static json_t *ps_json(char *text)
{
	json_t *titles = json_array(), *procs = json_array();
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *w, *wsave = NULL;
		if (!json_array_size(titles)) {
			for (w = strtok_r(line, " \t", &wsave); w; w = strtok_r(NULL, " \t", &wsave))
				json_array_append_new(titles, json_string(w));
			continue;
		}
		json_t *row = json_array();
		char *p = line;
		for (size_t i = 0; i + 1 < json_array_size(titles); i++) {
			p += strspn(p, " \t");
			size_t n = strcspn(p, " \t");
			json_array_append_new(row, json_stringn(p, n));
			p += n;
		}
		p += strspn(p, " \t");
		if (*p || json_array_size(row))
			json_array_append_new(row, json_string(p));
		if (json_array_size(row))
			json_array_append(procs, row);
		json_decref(row);
	}
	return json_pack("{s:o,s:o}", "Processes", procs, "Titles", titles);
}

static enum MHD_Result top(struct api_req *r, struct bx_box_record *rec)
{
	struct bx_err err = {0};
	if (!bx_box_is_running(rec))
		return api_error(r, 409, "Container %s is not running", rec->id);
	if (rec->status == BX_BOX_PAUSED)
		return api_error(r, 409, "Container %s is paused, unpause the container first", rec->id);
	/* ps_args: words split on blanks (Docker's) */
	const char *pa = api_arg(r, "ps_args");
	char *copy = strdup(pa ? pa : "");
	char *args[64];
	size_t n = 0;
	char *save = NULL;
	for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w; w = strtok_r(NULL, " \t", &save)) {
		if (n == sizeof(args) / sizeof(args[0])) {
			free(copy);
			return api_error(r, 400, "too many words in ps_args (at most 64)");
		}
		args[n++] = w;
	}
	struct bx_spec spec;
	bx_spec_init(&spec);
	struct gather g = {0};
	struct bx_relay_svc rs = {.out = gather_out, .ctx = &g, .resize_fd = -1, .hup_fd = api_client_fd(r)};
	struct bx_relay_opts o = {.in_fd = -1, .out_fd = -1, .err_fd = -1, .tty_fd = -1, .what = "box", .svc = &rs};
	int rc = copy ? bx_top_spec(&spec, args, n, &err) : bx_fail(&err, ENOMEM, "out of memory");
	if (rc == 0)
		rc = bx_exec_run_internal(rec, &spec, &o, &err);
	bx_spec_free(&spec);
	free(copy);
	enum MHD_Result ret;
	if (rc < 0)
		ret = api_fail(r, &err);
	else if (rc)
		ret = api_error(r, 500, "ps in box %.12s failed (exit %d); check ps_args", rec->id, rc);
	else if (g.too_big)
		ret = api_error(r, 500, "ps printed more than %d bytes", TOP_OUTPUT_MAX);
	else
		ret = api_json(r, 200, ps_json(g.buf ? g.buf : (char[]){0}));
	free(g.buf);
	return ret;
}

enum MHD_Result api_control(struct api_req *r, const char *ref, const char *action)
{
	struct bx_err err = {0};
	struct bx_box_record rec;
	if (bx_state_lookup(&r->p, ref, &rec, &err) < 0)
		return err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", ref) : api_fail(r, &err);
	if (!strcmp(action, "restart"))
		return restart(r, &rec);
	if (!strcmp(action, "pause") || !strcmp(action, "unpause"))
		return pause_box(r, ref, &rec, !strcmp(action, "pause"));
	if (!strcmp(action, "rename"))
		return rename_box(r, &rec);
	if (!strcmp(action, "update"))
		return update_box(r, &rec);
	return top(r, &rec);
}

bool api_control_action(const char *method, const char *action)
{
	if (!strcmp(method, "GET"))
		return !strcmp(action, "top");
	return !strcmp(method, "POST") && (!strcmp(action, "restart") || !strcmp(action, "pause") ||
					   !strcmp(action, "unpause") || !strcmp(action, "rename") ||
					   !strcmp(action, "update"));
}
