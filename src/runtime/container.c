/* The container record (ROOT/ID/state.json) and its status.
 *
 * Status comes from the monitor process, never from a cached field: alive
 * (same pid and start time) and ROOT/ID/started present -> running, or
 * paused while the shim's RUN/paused exists; alive without it -> created;
 * gone, or ROOT/ID/stopped present (ended before it started) -> stopped. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../store/state.h"
#include "rt.h"

int rt_id_valid(const char *id, struct bx_err *err)
{
	size_t n = strlen(id);
	if (n == 0 || n > 200)
		return bx_fail(err, 0, "invalid container ID \"%.200s\": want 1 to 200 characters", id);
	for (const char *c = id; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_+-.", *c))
			return bx_fail(err, 0, "invalid container ID format: %s (letters, digits, _ + - . only)", id);
	if (!strcmp(id, ".") || !strcmp(id, ".."))
		return bx_fail(err, 0, "invalid container ID format: %s", id);
	return 0;
}

/* FNV-1a: a short, stable name for this container's sockets */
static unsigned long long key_of(const char *root, const char *id)
{
	unsigned long long h = 1469598103934665603ULL;
	for (const char *s = root; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ 0) * 1099511628211ULL;
	for (const char *s = id; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

int rt_container_paths(const struct rt_globals *g, const struct bx_paths *p, const char *id, struct rt_container *c,
		       struct bx_err *err)
{
	memset(c, 0, sizeof(*c));
	if (rt_id_valid(id, err) < 0)
		return -1;
	snprintf(c->id, sizeof(c->id), "%s", id);
	unsigned long long k = key_of(g->root, id);
	if (bx_path_join(c->dir, sizeof(c->dir), err, "%s/%s", g->root, id) < 0 ||
	    bx_path_join(c->box_dir, sizeof(c->box_dir), err, "%s/box", c->dir) < 0 ||
	    bx_path_join(c->run_dir, sizeof(c->run_dir), err, "%s/rt-%012llx", p->run, k & 0xffffffffffffULL) < 0 ||
	    bx_path_join(c->ctl_sock, sizeof(c->ctl_sock), err, "%s/rt-%012llx.sock", p->run, k & 0xffffffffffffULL) < 0)
		return -1;
	if (strlen(c->run_dir) + sizeof("/attach.sock") > 108)
		return bx_fail(err, ENAMETOOLONG, "runtime directory %s is too long for socket paths (set "
						  "BOXVM_RUNTIME_DIR to a shorter one)", p->run);
	return 0;
}

int rt_container_write(const struct rt_container *c, struct bx_err *err)
{
	json_t *ann = c->annotations_json ? json_loads(c->annotations_json, 0, NULL) : NULL;
	_cleanup_json_ json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:s,s:s,s:s,s:o}", "id", c->id, "bundle",
					     c->bundle, "rootfs", c->rootfs, "created", c->created, "pid", c->pid,
					     "pid_start", (json_int_t)c->pid_start, "ctl_sock", c->ctl_sock, "run_dir",
					     c->run_dir, "box_dir", c->box_dir, "annotations", ann ? ann : json_object());
	if (o && c->hooks_json)
		json_object_set_new(o, "hooks", json_loads(c->hooks_json, 0, NULL));
	_cleanup_free_ char *text = o ? json_dumps(o, JSON_INDENT(1)) : NULL;
	if (!text)
		return bx_fail(err, 0, "out of memory");
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/state.json", c->dir) < 0)
		return -1;
	return bx_write_file_atomic(path, text, strlen(text), 0644, err);
}

static int copy(json_t *o, const char *key, char *dst, size_t size)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v && snprintf(dst, size, "%s", v) < (int)size ? 0 : -1;
}

int rt_container_load(const struct rt_globals *g, const char *id, struct rt_container *c, struct bx_err *err)
{
	memset(c, 0, sizeof(*c));
	if (rt_id_valid(id, err) < 0)
		return -1;
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/%s/state.json", g->root, id) < 0)
		return -1;
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);
	if (!o) {
		if (access(path, F_OK) < 0)
			return bx_fail(err, 0, "container \"%s\" does not exist", id);
		return bx_fail(err, 0, "container \"%s\": its state %s is unreadable: %s", id, path, je.text);
	}
	snprintf(c->id, sizeof(c->id), "%s", id);
	json_t *ann = json_object_get(o, "annotations");
	int rc = 0;
	if (bx_path_join(c->dir, sizeof(c->dir), err, "%s/%s", g->root, id) < 0 ||
	    copy(o, "bundle", c->bundle, sizeof(c->bundle)) < 0 || copy(o, "rootfs", c->rootfs, sizeof(c->rootfs)) < 0 ||
	    copy(o, "created", c->created, sizeof(c->created)) < 0 ||
	    copy(o, "ctl_sock", c->ctl_sock, sizeof(c->ctl_sock)) < 0 ||
	    copy(o, "run_dir", c->run_dir, sizeof(c->run_dir)) < 0 ||
	    copy(o, "box_dir", c->box_dir, sizeof(c->box_dir)) < 0 || !json_is_integer(json_object_get(o, "pid")))
		rc = bx_fail(err, 0, "container \"%s\": its state %s is malformed", id, path);
	c->pid = (int)json_integer_value(json_object_get(o, "pid"));
	c->pid_start = (unsigned long long)json_integer_value(json_object_get(o, "pid_start"));
	c->annotations_json = ann ? json_dumps(ann, JSON_COMPACT) : NULL;
	json_t *hooks = json_object_get(o, "hooks");
	c->hooks_json = hooks ? json_dumps(hooks, JSON_COMPACT) : NULL;
	json_decref(o);
	return rc;
}

void rt_container_free(struct rt_container *c)
{
	free(c->annotations_json);
	c->annotations_json = NULL;
	free(c->hooks_json);
	c->hooks_json = NULL;
}

enum rt_status rt_container_status(const struct rt_container *c)
{
	if (c->pid <= 0 || !bx_proc_alive(c->pid, c->pid_start))
		return RT_STOPPED;
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/stopped", c->dir) < 0 || access(path, F_OK) == 0)
		return RT_STOPPED;
	if (bx_path_join(path, sizeof(path), NULL, "%s/started", c->dir) < 0)
		return RT_STOPPED;
	if (access(path, F_OK) < 0)
		return RT_CREATED;
	if (bx_path_join(path, sizeof(path), NULL, "%s/paused", c->run_dir) == 0 && access(path, F_OK) == 0)
		return RT_PAUSED;
	return RT_RUNNING;
}

const char *rt_status_name(enum rt_status s)
{
	return s == RT_CREATED ? "created" : s == RT_RUNNING ? "running" : s == RT_PAUSED ? "paused" : "stopped";
}

bool rt_wait_gone(int pid, unsigned long long start, int timeout_ms)
{
	if (pid <= 0 || !bx_proc_alive(pid, start))
		return true;
	/* not our child: a pidfd says when it exits (a zombie counts as gone:
	 * its parent, the caller, reaps it) */
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		if (!bx_proc_alive(pid, start))
			return true;
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int r;
		while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
			;
		return r > 0 || !bx_proc_alive(pid, start);
	}
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
		if (!bx_proc_alive(pid, start))
			return true;
	}
	return false;
}

/* The shim of a monitor that died without stopping it (SIGKILL): its pid is in RUN/shim.pid. */
static void stop_orphan_shim(const struct rt_container *c)
{
	char path[PATH_MAX], *text = NULL;
	if (bx_path_join(path, sizeof(path), NULL, "%s/shim.pid", c->run_dir) < 0 ||
	    bx_read_file(path, &text, NULL, NULL) < 0)
		return;
	int pid = atoi(text);
	free(text);
	unsigned long long st;
	if (pid <= 1 || bx_proc_start_time(pid, &st, NULL) < 0)
		return;
	kill(pid, SIGTERM); /* the shim kills its VM, cleans up and exits */
	if (!rt_wait_gone(pid, st, 10000))
		kill(pid, SIGKILL);
}

int rt_container_destroy(struct rt_container *c, struct bx_err *err)
{
	if (rt_container_status(c) != RT_STOPPED) {
		struct bx_err ignored;
		rt_ctl_request(c, "kill 9", &ignored);
		if (!rt_wait_gone(c->pid, c->pid_start, 15000)) {
			kill(c->pid, SIGKILL);
			rt_wait_gone(c->pid, c->pid_start, 2000);
		}
	} else {
		rt_wait_gone(c->pid, c->pid_start, 15000); /* a monitor ending: nothing of it outlives delete */
	}
	stop_orphan_shim(c);
	unlink(c->ctl_sock);
	bx_rm_rf(c->run_dir, NULL);
	if (bx_rm_rf(c->dir, err) < 0)
		return bx_wrap(err, "cannot remove container \"%s\"", c->id);
	struct bx_err hook_err;
	if (rt_hooks_run(c, "poststop", "stopped", &hook_err) < 0)
		rt_error("%s", hook_err.msg);
	return 0;
}
