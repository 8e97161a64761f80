/* start, state, kill, delete, ps, list, features, pause, resume and the
 * commands boxvm cannot honour: small commands over the container record and the monitor's
 * control socket (rt.h). Messages follow runc's, which callers match on
 * ("does not exist", "container not running"). */
#include <dirent.h>
#include <pwd.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../vm/vmspec.h"
#include "oci_config.h"
#include "rt.h"

/* Parse "CMD [flags] ID" and load the container; 1 on failure (reported). */
static int load_one(const struct rt_globals *g, const char *cmd, int argc, char **argv, struct rt_opt *o, size_t no,
		    char **extra, int nextra, struct rt_container *c)
{
	char *pos[3];
	int npos = rt_opts_parse(cmd, argc, argv, o, no, pos, 1 + nextra);
	if (npos < 0)
		return 1;
	if (npos < 1) {
		rt_error("%s: requires the container ID", cmd);
		return 1;
	}
	for (int i = 0; i < nextra; i++)
		extra[i] = i + 1 < npos ? pos[i + 1] : NULL;
	struct bx_err err;
	if (rt_container_load(g, pos[0], c, &err) < 0) {
		rt_error("%s", err.msg);
		return 1;
	}
	return 0;
}

int rt_cmd_start(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_container c;
	if (load_one(g, "start", argc, argv, NULL, 0, NULL, 0, &c))
		return 1;
	enum rt_status s = rt_container_status(&c);
	struct bx_err err;
	int rc = 0;
	if (s != RT_CREATED) {
		rt_error(s == RT_RUNNING ? "cannot start an already running container"
			 : s == RT_PAUSED ? "cannot start a paused container (resume it)"
					  : "cannot start a container that has stopped");
		rc = 1;
	} else if (rt_ctl_request(&c, "start", &err) < 0) {
		rt_error("%s", err.msg);
		rc = 1;
	} else if (rt_hooks_run(&c, "poststart", "running", &err) < 0) {
		/* as runc: a failing poststart hook ends the container it followed */
		struct bx_err ignored;
		rt_ctl_request(&c, "kill 9", &ignored);
		rt_wait_gone(c.pid, c.pid_start, 15000);
		rt_error("%s", err.msg);
		rc = 1;
	}
	rt_container_free(&c);
	return rc;
}

static json_t *state_json(const struct rt_container *c)
{
	enum rt_status s = rt_container_status(c);
	json_t *ann = c->annotations_json ? json_loads(c->annotations_json, 0, NULL) : NULL;
	return json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:o}", "ociVersion", "1.0.2", "id", c->id, "pid",
			 s == RT_STOPPED ? 0 : c->pid, "status", rt_status_name(s), "bundle", c->bundle, "rootfs",
			 c->rootfs, "created", c->created, "owner", "", "annotations", ann ? ann : json_object());
}

static int print_json(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	if (!text) {
		rt_error("out of memory");
		return 1;
	}
	printf("%s\n", text);
	free(text);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int print_compact(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text) {
		rt_error("out of memory");
		return 1;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

int rt_cmd_state(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_container c;
	if (load_one(g, "state", argc, argv, NULL, 0, NULL, 0, &c))
		return 1;
	int rc = print_json(state_json(&c));
	rt_container_free(&c);
	return rc;
}

int rt_cmd_kill(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_opt o[] = {{"all", 'a', false, NULL}, {"pid", 'p', true, NULL}};
	struct rt_container c;
	char *sigtext = NULL;
	if (load_one(g, "kill", argc, argv, o, 2, &sigtext, 1, &c))
		return 1;
	/* signal 0 checks that the container is alive, as kill(2)'s does (runc: 0
	 * for created and running, "container not running" once stopped) */
	int sig = !sigtext ? 15 : !strcmp(sigtext, "0") ? 0 : bx_oci_signal_parse(sigtext);
	int rc = 1;
	struct bx_err err;
	char req[32];
	if (sig < 0) {
		rt_error("invalid signal: %s", sigtext);
	} else if (rt_container_status(&c) == RT_STOPPED) {
		rt_error("container not running");
	} else if (sig == 0) {
		rc = 0;
	} else if (snprintf(req, sizeof(req), "kill %d", sig), rt_ctl_request(&c, req, &err) < 0) {
		rt_error("%s", err.msg);
	} else {
		rc = 0;
	}
	rt_container_free(&c);
	return rc;
}

int rt_cmd_delete(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_opt o[] = {{"force", 'f', false, NULL}};
	char *pos[1];
	int npos = rt_opts_parse("delete", argc, argv, o, 1, pos, 1);
	if (npos < 0)
		return 1;
	if (npos != 1) {
		rt_error("delete: requires exactly 1 argument (the container ID)");
		return 1;
	}
	bool force = o[0].value != NULL;
	struct rt_container c;
	struct bx_err err;
	if (rt_container_load(g, pos[0], &c, &err) < 0) {
		rt_container_free(&c);
		if (force && strstr(err.msg, "does not exist"))
			return 0; /* runc: forced delete of a missing container succeeds */
		rt_error("%s", err.msg);
		return 1;
	}
	int rc = 0;
	enum rt_status s = rt_container_status(&c);
	if ((s == RT_RUNNING || s == RT_PAUSED) && !force) {
		rt_error("cannot delete container %s that is not stopped: %s", c.id, rt_status_name(s));
		rc = 1;
	} else if (rt_container_destroy(&c, &err) < 0) {
		rt_error("%s", err.msg);
		rc = 1;
	}
	rt_container_free(&c);
	return rc;
}

int rt_cmd_ps(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_opt o[] = {{"format", 'f', true, NULL}};
	struct rt_container c;
	if (load_one(g, "ps", argc, argv, o, 1, NULL, 0, &c))
		return 1;
	const char *fmt = o[0].value ? o[0].value : "table";
	enum rt_status s = rt_container_status(&c);
	int rc = 0;
	/* the host sees one process per container: the monitor (the guest's
	 * processes live in another kernel) */
	if (!strcmp(fmt, "json")) {
		printf(s == RT_STOPPED ? "[]\n" : "[%d]\n", c.pid);
	} else if (!strcmp(fmt, "table")) {
		printf("UID        PID  CMD\n");
		if (s != RT_STOPPED)
			printf("%-10s %d  boxvm-runtime monitor %s\n", "root", c.pid, c.id);
	} else {
		rt_error("ps: invalid format option \"%s\" (json or table)", fmt);
		rc = 1;
	}
	rt_container_free(&c);
	return rc;
}

/* Who owns a container: the user owning its directory (runc's list column). */
static void owner_of(const struct rt_container *c, char *out, size_t size)
{
	struct stat st;
	struct passwd *pw = stat(c->dir, &st) == 0 ? getpwuid(st.st_uid) : NULL;
	if (pw)
		snprintf(out, size, "%s", pw->pw_name);
	else
		snprintf(out, size, "#%u", stat(c->dir, &st) == 0 ? (unsigned)st.st_uid : 0u);
}

static int by_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define LIST_COLS 6
/* runc prints its table with Go's tabwriter (minwidth 12, padding 3): every
 * column but the last is as wide as its widest cell plus 3, at least 12. */
static void print_table(char *(*rows)[LIST_COLS], size_t nrows)
{
	size_t w[LIST_COLS - 1];
	for (int k = 0; k < LIST_COLS - 1; k++) {
		w[k] = 12;
		for (size_t r = 0; r < nrows; r++)
			if (strlen(rows[r][k]) + 3 > w[k])
				w[k] = strlen(rows[r][k]) + 3;
	}
	for (size_t r = 0; r < nrows; r++) {
		for (int k = 0; k < LIST_COLS - 1; k++)
			printf("%-*s", (int)w[k], rows[r][k]);
		printf("%s\n", rows[r][LIST_COLS - 1]);
	}
}

/* The containers under --root, sorted by ID as runc lists them. Returns the
 * number of IDs in *ids (malloc'd), or -1. */
static int list_ids(const struct rt_globals *g, char ***ids)
{
	*ids = NULL;
	DIR *d = opendir(g->root);
	if (!d)
		return 0; /* no --root yet: nothing was ever created */
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **bigger = realloc(*ids, (cap = cap ? cap * 2 : 16) * sizeof(char *));
			if (!bigger)
				break;
			*ids = bigger;
		}
		if (!((*ids)[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(*ids, n, sizeof(char *), by_id);
	return (int)n;
}

int rt_cmd_list(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_opt o[] = {{"format", 'f', true, NULL}, {"quiet", 'q', false, NULL}};
	char *pos[1];
	if (rt_opts_parse("list", argc, argv, o, 2, pos, 0) < 0)
		return 1;
	const char *fmt = o[0].value ? o[0].value : "table";
	bool json = !strcmp(fmt, "json"), quiet = o[1].value != NULL;
	if (!json && strcmp(fmt, "table")) {
		rt_error("invalid format option");
		return 1;
	}
	char **ids;
	int nids = list_ids(g, &ids);
	json_t *arr = json_array();
	char *(*rows)[LIST_COLS] = calloc((size_t)nids + 1, sizeof(*rows));
	size_t nrows = 0;
	int rc = arr && rows ? 0 : 1;
	if (rows) {
		static char *head[LIST_COLS] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"};
		memcpy(rows[nrows++], head, sizeof(head));
	}
	for (int i = 0; i < nids && rc == 0; i++) {
		struct rt_container c;
		struct bx_err err;
		if (rt_container_load(g, ids[i], &c, &err) < 0) {
			rt_container_free(&c);
			continue;
		}
		enum rt_status s = rt_container_status(&c);
		char owner[64];
		owner_of(&c, owner, sizeof(owner));
		if (json) {
			/* runc's list: compact, "owner" filled, annotations only when there are some */
			json_t *st = state_json(&c);
			json_object_set_new(st, "owner", json_string(owner));
			if (!json_object_size(json_object_get(st, "annotations")))
				json_object_del(st, "annotations");
			json_array_append_new(arr, st);
		} else if (quiet) {
			printf("%s\n", c.id);
		} else {
			char *r[LIST_COLS] = {strdup(c.id), NULL, strdup(rt_status_name(s)), strdup(c.bundle),
					      strdup(c.created), strdup(owner)};
			if (asprintf(&r[1], "%d", s == RT_STOPPED ? 0 : c.pid) < 0)
				r[1] = NULL;
			memcpy(rows[nrows++], r, sizeof(r));
			for (int k = 0; k < LIST_COLS; k++)
				if (!r[k])
					rc = 1;
		}
		rt_container_free(&c);
	}
	if (rc)
		rt_error("out of memory");
	else if (json && json_array_size(arr) == 0)
		printf("null\n"); /* runc (Go) encodes its empty list as null */
	else if (json)
		rc = print_compact(arr), arr = NULL;
	else if (!quiet)
		print_table(rows, nrows);
	for (size_t r = 1; r < nrows; r++)
		for (int k = 0; k < LIST_COLS; k++)
			free(rows[r][k]);
	free(rows);
	for (int i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	json_decref(arr);
	return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}

int rt_cmd_features(const struct rt_globals *g, int argc, char **argv)
{
	json_t *f = json_pack(
		"{s:s,s:s,s:[],s:[s,s,s,s,s,s,s],s:{s:[s,s,s,s,s,s],s:[],s:{s:b,s:b},s:{s:b},s:{s:b}},s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", "1.1.0", "hooks", "mountOptions", "bind", "rbind", "ro", "rw",
		"size", "mode", "nosuid", "linux", "namespaces", "network", "pid", "mount", "ipc", "uts", "cgroup",
		"capabilities", "cgroup", "v1", true, "v2", true, "seccomp", "enabled", true, "apparmor",
		"enabled", false, "annotations", "io.boxvm.isolation", "microvm");
	/* linux.seccomp as src/box/seccomp_parse.c reads it */
	json_t *sc = json_pack("{s:[s,s,s,s,s,s,s,s],s:[s,s,s,s,s,s,s],s:[]}", "actions", "SCMP_ACT_ALLOW",
			       "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
			       "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", "operators", "SCMP_CMP_EQ", "SCMP_CMP_GE",
			       "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
			       "supportedFlags");
	json_object_update(json_object_get(json_object_get(f, "linux"), "seccomp"), sc);
	json_decref(sc);
	return print_json(f);
}

/* The monitor hands the request to the box's shim, which freezes or thaws
 * the whole VM through QEMU's QMP monitor and then creates or removes
 * RUN/paused: wait for the status that makes. A pause of a guest still
 * booting waits for the boot (the shim never freezes a booting guest). */
static int pause_or_resume(const struct rt_globals *g, int argc, char **argv, bool pause)
{
	const char *cmd = pause ? "pause" : "resume";
	struct rt_container c;
	if (load_one(g, cmd, argc, argv, NULL, 0, NULL, 0, &c))
		return 1;
	enum rt_status s = rt_container_status(&c), want = pause ? RT_PAUSED : RT_RUNNING;
	struct bx_err err;
	int rc = 1;
	if (pause && s != RT_RUNNING) {
		rt_error(s == RT_PAUSED ? "container already paused" : "container not running");
	} else if (!pause && s != RT_PAUSED) {
		rt_error("container not paused");
	} else if (bx_pause_error_clear(c.box_dir), rt_ctl_request(&c, cmd, &err) < 0) {
		rt_error("%s", err.msg);
	} else {
		int guard = bx_vmspec_pause_guard_ms(c.box_dir);
		char why[256];
		bool failed = false;
		for (int waited = 0; (s = rt_container_status(&c)) != want && s != RT_STOPPED && waited < guard &&
				     !(failed = bx_pause_error_take(c.box_dir, why, sizeof(why)));
		     waited += 20) {
			struct timespec ts = {0, 20 * 1000000L};
			nanosleep(&ts, NULL);
		}
		if (failed)
			rt_error("cannot %s container \"%s\": %s", cmd, c.id, why);
		else if (s == want)
			rc = 0;
		else if (s == RT_STOPPED)
			rt_error("container \"%s\" stopped before it could be %s", c.id, pause ? "paused" : "resumed");
		else
			rt_error("container \"%s\" was not %s within %d s; see %s/shim.log", c.id,
				 pause ? "paused" : "resumed", guard / 1000, c.box_dir);
	}
	rt_container_free(&c);
	return rc;
}

int rt_cmd_pause(const struct rt_globals *g, int argc, char **argv)
{
	return pause_or_resume(g, argc, argv, true);
}

int rt_cmd_resume(const struct rt_globals *g, int argc, char **argv)
{
	return pause_or_resume(g, argc, argv, false);
}

int rt_cmd_unsupported(const struct rt_globals *g, int argc, char **argv)
{
	rt_error("%s is not supported by boxvm-runtime", argc > 0 ? argv[0] : "this command");
	return 1;
}
