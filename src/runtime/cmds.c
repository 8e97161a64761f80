/* start, state, kill, delete, ps, list, features, pause, resume and the
 * commands boxvm cannot honour: small commands over the container record and the monitor's
 * control socket (rt.h). Messages follow runc's, which callers match on
 * ("does not exist", "container not running"). */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	int sig = sigtext ? bx_oci_signal_parse(sigtext) : 15;
	int rc = 1;
	struct bx_err err;
	char req[32];
	if (sig < 0) {
		rt_error("invalid signal: %s", sigtext);
	} else if (rt_container_status(&c) == RT_STOPPED) {
		rt_error("container not running");
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

int rt_cmd_list(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_opt o[] = {{"format", 'f', true, NULL}, {"quiet", 'q', false, NULL}};
	char *pos[1];
	if (rt_opts_parse("list", argc, argv, o, 2, pos, 0) < 0)
		return 1;
	bool json = o[0].value && !strcmp(o[0].value, "json"), quiet = o[1].value != NULL;
	json_t *arr = json_array();
	DIR *d = opendir(g->root);
	struct dirent *e;
	if (!quiet && !json)
		printf("ID   PID   STATUS   BUNDLE   CREATED   OWNER\n");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		struct rt_container c;
		struct bx_err err;
		if (rt_container_load(g, e->d_name, &c, &err) < 0) {
			rt_container_free(&c);
			continue;
		}
		enum rt_status s = rt_container_status(&c);
		if (json)
			json_array_append_new(arr, state_json(&c));
		else if (quiet)
			printf("%s\n", c.id);
		else
			printf("%s   %d   %s   %s   %s   root\n", c.id, s == RT_STOPPED ? 0 : c.pid, rt_status_name(s),
			       c.bundle, c.created);
		rt_container_free(&c);
	}
	if (d)
		closedir(d);
	if (json)
		return print_json(arr);
	json_decref(arr);
	return 0;
}

int rt_cmd_features(const struct rt_globals *g, int argc, char **argv)
{
	json_t *f = json_pack(
		"{s:s,s:s,s:[],s:[s,s,s,s,s,s,s],s:{s:[s,s,s,s,s,s],s:[],s:{s:b,s:b},s:{s:b},s:{s:b}},s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", "1.1.0", "hooks", "mountOptions", "bind", "rbind", "ro", "rw",
		"size", "mode", "nosuid", "linux", "namespaces", "network", "pid", "mount", "ipc", "uts", "cgroup",
		"capabilities", "cgroup", "v1", true, "v2", true, "seccomp", "enabled", false, "apparmor",
		"enabled", false, "annotations", "io.boxvm.isolation", "microvm");
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
