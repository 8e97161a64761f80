/* boxvm-runtime exec --process FILE [--detach] [--pid-file F] [--console-socket S] [--tty] ID [CMD...]
 *
 * The process runs in the guest through the shim's exec socket (the agent's
 * exec or pty service). Its host-side pid is a small relay process holding
 * the caller's stdio: it lives exactly as long as the guest process and
 * exits with its code; signals sent to it are forwarded. With --detach the
 * command returns once the request is in and the relay is re-parented to
 * the caller (a subreaper); without it the command is the relay. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../client/exec_client.h"
#include "../client/relay.h"
#include "../common/cleanup.h"
#include "../common/reply.h"
#include "../store/state.h"
#include "oci_config.h"
#include "rt.h"

/* The flags runc takes more than once (urfave/cli slices): all their values. */
#define RT_EXEC_LIST_MAX 128
struct rt_exec_lists {
	const char *env[RT_EXEC_LIST_MAX];
	int nenv;
	const char *gids[RT_EXEC_LIST_MAX];
	int ngids;
};

static int collect_lists(int argc, char **argv, struct rt_exec_lists *l)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] != '-' || !strcmp(argv[i], "--"))
			continue;
		const char *name = argv[i] + (argv[i][1] == '-' ? 2 : 1), *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		bool env = (len == 3 && !strncmp(name, "env", 3)) || (len == 1 && name[0] == 'e');
		bool gid = (len == 15 && !strncmp(name, "additional-gids", 15)) || (len == 1 && name[0] == 'g');
		if (!env && !gid)
			continue;
		const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
		int *n = env ? &l->nenv : &l->ngids;
		if (!v)
			continue; /* rt_opts_parse reports it */
		if (*n == RT_EXEC_LIST_MAX) {
			rt_error("exec: more than %d %s flags", RT_EXEC_LIST_MAX, env ? "--env" : "--additional-gids");
			return -1;
		}
		(env ? l->env : l->gids)[(*n)++] = v;
	}
	return 0;
}

/* `exec ID CMD...` as runc builds it: the bundle's config.json process with
 * CMD for args, -t for terminal, each --env appended, --cwd and --user (UID[:GID])
 * replacing theirs, --additional-gids (repeated) replacing the extra groups. */
static json_t *cli_process(const struct rt_container *c, struct rt_opt *o, size_t no, const struct rt_exec_lists *l,
			   char **cmd, int ncmd, struct bx_err *err)
{
	if (ncmd == 0)
		return bx_fail(err, 0, "exec: a command (or --process FILE) is required"), NULL;
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/config.json", c->bundle) < 0)
		return NULL;
	json_error_t je;
	_cleanup_json_ json_t *cfg = json_load_file(path, 0, &je);
	json_t *p = json_object_get(cfg, "process");
	if (!json_is_object(p))
		return bx_fail(err, 0, "exec: cannot read the process of %s: %s", path, cfg ? "no process" : je.text), NULL;
	json_incref(p);
	json_t *args = json_array(), *env = json_object_get(p, "env");
	for (int i = 0; i < ncmd; i++)
		json_array_append_new(args, json_string(cmd[i]));
	json_object_set_new(p, "args", args);
	json_object_set_new(p, "terminal", json_boolean(rt_opt_get(o, no, "tty") != NULL));
	if (!json_is_array(env))
		json_object_set_new(p, "env", env = json_array());
	for (int i = 0; i < l->nenv; i++)
		json_array_append_new(env, json_string(l->env[i]));
	const char *cwd = rt_opt_get(o, no, "cwd"), *user = rt_opt_get(o, no, "user");
	if (cwd)
		json_object_set_new(p, "cwd", json_string(cwd));
	json_t *u = json_object_get(p, "user");
	if (!json_is_object(u))
		json_object_set_new(p, "user", u = json_object());
	if (user) {
		char *end;
		long uid = strtol(user, &end, 10), gid = 0;
		bool ok = end != user && uid >= 0 && (!*end || *end == ':');
		if (ok && *end == ':') {
			const char *g = end + 1;
			gid = strtol(g, &end, 10);
			ok = end != g && !*end && gid >= 0;
		}
		if (!ok) {
			json_decref(p);
			return bx_fail(err, 0, "exec: --user %s: want UID[:GID], numbers as runc's", user), NULL;
		}
		json_object_set_new(u, "uid", json_integer(uid));
		json_object_set_new(u, "gid", json_integer(gid));
	}
	if (l->ngids) {
		json_t *g = json_array();
		for (int i = 0; i < l->ngids; i++) {
			char *end;
			long v = strtol(l->gids[i], &end, 10);
			if (end == l->gids[i] || *end || v < 0) {
				json_decref(g);
				json_decref(p);
				return bx_fail(err, 0, "exec: invalid --additional-gids value \"%s\" (a number)", l->gids[i]),
				       NULL;
			}
			json_array_append_new(g, json_integer(v));
		}
		json_object_set_new(u, "additionalGids", g);
	}
	return p;
}

static int build_spec(const struct rt_container *c, struct rt_opt *o, size_t no, const struct rt_exec_lists *l,
		      char **cmd, int ncmd, struct bx_spec *spec, struct bx_err *err)
{
	const char *pfile = rt_opt_get(o, no, "process");
	_cleanup_free_ char *text = NULL;
	if (pfile) {
		if (bx_read_file(pfile, &text, NULL, err) < 0)
			return bx_wrap(err, "exec --process");
	} else {
		json_t *p = cli_process(c, o, no, l, cmd, ncmd, err);
		text = p ? json_dumps(p, JSON_COMPACT) : NULL;
		json_decref(p);
		if (!text)
			return p ? bx_fail(err, 0, "out of memory") : -1;
	}
	if (bx_oci_process_parse(text, spec, err) < 0) /* exact: see oci_config.c */
		return -1;
	if (pfile && rt_opt_get(o, no, "tty"))
		spec->tty = true;
	return 0;
}

/* Tell the exec command waiting on *fdp (a sync pipe) that all went well, once. */
static void sync_ok(void *fdp)
{
	int *fd = fdp;
	if (*fd >= 0) {
		dprintf(*fd, "ok\n");
		close(*fd);
		*fd = -1;
	}
}

/* The relay: connect, send the request, tell the parent (detached: once the
 * process runs), then carry the session. slave: the console socket's pty (the relay's own session and
 * terminal), or -1. term: the caller's terminal for exec -t without a
 * console socket (the relay stays in the caller's session, so SIGWINCH
 * reaches it), or -1. */
static void __attribute__((noreturn)) relay(const struct rt_container *c, const struct bx_spec *spec, int slave,
					    int term, int sync_fd, bool detach)
{
	struct bx_err err;
	if ((term < 0 && setsid() < 0) || (slave >= 0 && rt_console_adopt(slave, &err) < 0)) {
		dprintf(sync_fd, "error: cannot set up the exec session's terminal\n");
		_exit(BX_EXIT_ERROR);
	}
	int keep[] = {sync_fd, term};
	rt_close_inherited(keep, term >= 0 ? 2 : 1);
	struct bx_box_record box;
	memset(&box, 0, sizeof(box));
	snprintf(box.id, sizeof(box.id), "%.64s", c->id);
	snprintf(box.run_dir, sizeof(box.run_dir), "%s", c->run_dir);
	int sock = bx_exec_connect(&box, spec, &err);
	if (sock < 0) {
		dprintf(sync_fd, "error: container \"%s\": %s\n", c->id, err.msg);
		_exit(BX_EXIT_ERROR);
	}
	/* attached, the caller may go on once the request is in; detached, only
	 * once the process runs (runc's exec -d returns after its execve: a
	 * command that cannot start is the exec's own error) */
	if (!detach)
		sync_ok(&sync_fd);
	struct bx_relay_opts ro = {.in_fd = term >= 0 ? term : 0, .out_fd = term >= 0 ? term : 1, .err_fd = 2,
				   .tty = spec->tty, .tty_fd = term >= 0 ? term : 0, .what = c->id,
				   .on_started = detach ? sync_ok : NULL, .on_started_ctx = &sync_fd};
	struct bx_relay_result res;
	if (bx_relay_run(sock, &ro, &res, &err) < 0) {
		if (sync_fd >= 0)
			dprintf(sync_fd, "error: container \"%s\": exec: %s\n", c->id, err.msg);
		else
			rt_error("container \"%s\": exec: %s", c->id, err.msg);
		_exit(BX_EXIT_ERROR);
	}
	if (sync_fd >= 0) { /* detached, and it never ran: runc's 255 */
		dprintf(sync_fd, "error: exec failed: unable to start container process: %s\n",
			res.start_error[0] ? res.start_error : "the process did not start");
		_exit(255);
	}
	/* a process that never ran (execve failed: the guest's message is on
	 * stderr already) is a runtime error: runc's 255 */
	_exit(res.started ? res.code & 0xff : 255);
}

static int wait_sync(int fd, struct bx_err *err)
{
	char line[1200];
	bx_reply_read(fd, line, sizeof(line), -1);
	return bx_reply_check(line, "the exec relay exited while starting", err);
}

int rt_cmd_exec(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_opt o[] = {
		{"process", 'p', true, NULL},  {"detach", 'd', false, NULL},       {"pid-file", 0, true, NULL},
		{"console-socket", 0, true, NULL}, {"tty", 't', false, NULL},     {"cwd", 0, true, NULL},
		{"env", 'e', true, NULL},      {"user", 'u', true, NULL},          {"preserve-fds", 0, true, NULL},
		{"no-new-privs", 0, false, NULL}, {"cap", 'c', true, NULL},        {"process-label", 0, true, NULL},
		{"apparmor", 0, true, NULL},   {"ignore-paused", 0, false, NULL}, {"additional-gids", 'g', true, NULL},
		{"cgroup", 0, true, NULL},
	};
	const size_t no = sizeof(o) / sizeof(o[0]);
	char *pos[256];
	/* "exec [flags] ID CMD ARGS...": flags end at the command */
	int split = 0;
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] != '-') {
			bool is_value = false;
			if (i > 0 && argv[i - 1][0] == '-' && !strchr(argv[i - 1], '=')) {
				const char *n = argv[i - 1] + (argv[i - 1][1] == '-' ? 2 : 1);
				for (size_t k = 0; k < no; k++)
					if (o[k].has_value && (!strcmp(o[k].name, n) || (!n[1] && o[k].shortname == n[0])))
						is_value = true;
			}
			if (!is_value) {
				split = i + 1;
				break;
			}
		}
	}
	if (!split) {
		rt_error("exec: requires the container ID");
		return 1;
	}
	int npos = rt_opts_parse("exec", split, argv, o, no, pos, 1);
	if (npos != 1)
		return 1;
	const char *preserve = rt_opt_get(o, no, "preserve-fds");
	if (preserve && strcmp(preserve, "0")) {
		rt_error("exec: --preserve-fds is not supported by boxvm-runtime");
		return 1;
	}
	static struct rt_exec_lists lists; /* large: not on the stack */
	if (collect_lists(split, argv, &lists) < 0)
		return 1;
	struct rt_container c;
	struct bx_err err;
	struct bx_spec spec;
	bx_spec_init(&spec);
	int rc = 1;
	_cleanup_close_ int slave = -1, term = -1; /* the relay has its own copies */
	if (rt_container_load(g, pos[0], &c, &err) < 0 ||
	    build_spec(&c, o, no, &lists, argv + split, argc - split, &spec, &err) < 0) {
		rt_error("%s", err.msg);
		goto out;
	}
	enum rt_status status = rt_container_status(&c);
	/* runc execs into a created container's namespaces: here its VM boots
	 * now, main held until `start` (the monitor answers once the guest does) */
	if (status == RT_CREATED && rt_ctl_request(&c, "boot", &err) < 0) {
		rt_error("%s", err.msg);
		goto out;
	}
	if (status != RT_RUNNING && status != RT_CREATED) {
		rt_error(status == RT_PAUSED ? "cannot exec in a paused container (resume it first)"
					     : "cannot exec in a stopped container");
		goto out;
	}
	const char *console_socket = rt_opt_get(o, no, "console-socket");
	if (spec.tty && !(console_socket && *console_socket) && !rt_opt_get(o, no, "detach")) {
		/* runc: the caller's own terminal, or its error when there is none */
		term = isatty(STDIN_FILENO) ? dup(STDIN_FILENO) : open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (term < 0) {
			char why[128];
			snprintf(why, sizeof(why), "%s", strerror(errno));
			why[0] = (char)tolower((unsigned char)why[0]); /* Go's words are lower case */
			rt_error("exec failed: open /dev/tty: %s", why);
			rc = 255;
			goto out;
		}
	} else if (spec.tty && (slave = rt_console_make(console_socket, &err)) < 0) {
		rt_error("exec failed: %s", err.msg);
		rc = 255;
		goto out;
	}
	int sync[2];
	if (pipe2(sync, O_CLOEXEC) < 0) {
		rt_error("pipe: %s", strerror(errno));
		goto out;
	}
	pid_t pid = fork();
	if (pid < 0) {
		rt_error("fork: %s", strerror(errno));
		close(sync[0]);
		close(sync[1]);
		goto out;
	}
	if (pid == 0) {
		close(sync[0]);
		relay(&c, &spec, slave, term, sync[1], rt_opt_get(o, no, "detach") != NULL);
	}
	close(sync[1]);
	int sr = wait_sync(sync[0], &err);
	close(sync[0]);
	if (sr < 0) {
		int st = 0;
		waitpid(pid, &st, 0);
		rt_error("%s", err.msg);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 255)
			rc = 255; /* the process could not start: runc's code */
		goto out;
	}
	const char *pidfile = rt_opt_get(o, no, "pid-file");
	char text[32];
	int n = snprintf(text, sizeof(text), "%d", pid);
	if (pidfile && *pidfile && bx_write_file_atomic(pidfile, text, (size_t)n, 0644, &err) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		rt_error("%s", err.msg);
		goto out;
	}
	if (rt_opt_get(o, no, "detach")) {
		rc = 0;
		goto out;
	}
	/* attached: forward our signals to the relay, which forwards them to the guest */
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
out:
	bx_spec_free(&spec);
	rt_container_free(&c);
	return rc;
}
