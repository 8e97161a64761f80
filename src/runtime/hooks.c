/* config.json's hooks, run on the host as runc runs them: each hook of a
 * kind in order, with the container's state (runtime-spec State) on its
 * stdin, its stdout and stderr kept for the error, killed past its timeout;
 * the first that fails stops the rest. The kinds were checked at create
 * (oci_config.c), and their JSON kept in the container's record so that
 * poststop still runs when the bundle is gone. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/clock.h"
#include "rt.h"

extern char **environ;

/* what of a hook's stdout and stderr goes into its error; the rest is read and dropped */
#define HOOK_OUTPUT_KEPT 4096

struct output {
	int fd;
	char kept[HOOK_OUTPUT_KEPT + 1];
	size_t len;
};

/* NULL-terminated; the strings are the JSON's. NULL: the array is absent or empty. */
static char **words_of(json_t *a)
{
	size_t n = json_array_size(a);
	if (!n)
		return NULL;
	char **w = calloc(n + 1, sizeof(*w));
	for (size_t i = 0; w && i < n; i++)
		w[i] = (char *)json_string_value(json_array_get(a, i));
	return w;
}

static char *state_text(const struct rt_container *c, const char *status)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "ociVersion", "1.0.2", "id", c->id, "status", status);
	if (!o)
		return NULL;
	if (strcmp(status, "stopped") != 0 && c->pid > 0)
		json_object_set_new(o, "pid", json_integer(c->pid));
	json_object_set_new(o, "bundle", json_string(c->bundle));
	json_t *ann = c->annotations_json ? json_loads(c->annotations_json, 0, NULL) : NULL;
	if (json_object_size(ann))
		json_object_set_new(o, "annotations", ann);
	else
		json_decref(ann);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static void child(const char *path, char **argv, char **envp, const char *cwd, int in, int out, int errfd,
		  int report)
{
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(127);
	int keep[] = {report};
	rt_close_inherited(keep, 1);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (chdir(cwd) < 0) {
		/* runc runs hooks in the bundle; one gone is no reason to fail */
	}
	char *fallback[] = {(char *)path, NULL};
	execve(path, argv ? argv : fallback, envp ? envp : environ);
	int e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static void take(struct output *o)
{
	char buf[4096];
	ssize_t n = read(o->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(o->fd);
		o->fd = -1;
		return;
	}
	size_t room = HOOK_OUTPUT_KEPT - o->len, k = (size_t)n < room ? (size_t)n : room;
	memcpy(o->kept + o->len, buf, k);
	o->len += k;
	o->kept[o->len] = 0;
}

/* Feed state to the hook and read its output until both end, or the deadline
 * (ms on the monotonic clock; -1: none) passes. false: the deadline passed. */
static bool pump(int in, const char *state, struct output *out, struct output *errout, long long deadline)
{
	size_t len = strlen(state), off = 0;
	while (out->fd >= 0 || errout->fd >= 0) {
		struct pollfd p[3] = {{.fd = out->fd, .events = POLLIN}, {.fd = errout->fd, .events = POLLIN},
				      {.fd = in, .events = POLLOUT}};
		int wait_ms = -1;
		if (deadline >= 0) {
			long long left = deadline - bx_mono_ms();
			if (left <= 0)
				return false;
			wait_ms = left > 1000000 ? 1000000 : (int)left;
		}
		if (poll(p, 3, wait_ms) < 0 && errno != EINTR)
			return true;
		if (p[2].revents) {
			ssize_t n = write(in, state + off, len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
				/* all written, or the hook does not read: it gets EOF */
				close(in);
				in = -1;
			}
		}
		if (p[0].revents)
			take(out);
		if (p[1].revents)
			take(errout);
	}
	if (in >= 0)
		close(in);
	return true;
}

static void trim_newline(struct output *o)
{
	while (o->len && o->kept[o->len - 1] == '\n')
		o->kept[--o->len] = 0;
}

static int run_one(const struct rt_container *c, json_t *hook, size_t index, const char *state,
		   struct bx_err *err)
{
	const char *path = json_string_value(json_object_get(hook, "path"));
	json_int_t timeout = json_integer_value(json_object_get(hook, "timeout"));
	_cleanup_free_ char **argv = words_of(json_object_get(hook, "args"));
	_cleanup_free_ char **envp = json_object_get(hook, "env") ? words_of(json_object_get(hook, "env")) : NULL;
	char *empty_env[] = {NULL};
	/* stdin, stdout, stderr, and the exec failure report (an errno, or EOF once exec'd) */
	int pipes[4][2] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}};
	int *in = pipes[0], *out = pipes[1], *errp = pipes[2], *report = pipes[3];
	pid_t pid = -1;
	for (int i = 0; i < 4; i++)
		if (pipe2(pipes[i], O_CLOEXEC) < 0) {
			bx_fail(err, errno, "error running hook #%zu: cannot make its pipes", index);
			goto fail_pipes;
		}
	if ((pid = fork()) < 0) {
		bx_fail(err, errno, "error running hook #%zu: fork", index);
		goto fail_pipes;
	}
	if (pid == 0) /* a given env that is empty is an empty environment (runc's) */
		child(path, argv, envp ? envp : json_object_get(hook, "env") ? empty_env : NULL, c->bundle, in[0],
		      out[1], errp[1], report[1]);
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	close(report[1]);
	int exec_errno = 0;
	ssize_t got;
	while ((got = read(report[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
		;
	close(report[0]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	static struct output o, e; /* 8 KiB: not on the stack */
	o = (struct output){.fd = out[0]};
	e = (struct output){.fd = errp[0]};
	bool in_time = true;
	if (got == sizeof(exec_errno)) {
		close(in[1]);
		close(out[0]);
		close(errp[0]);
	} else {
		in_time = pump(in[1], state, &o, &e, timeout > 0 ? bx_mono_ms() + timeout * 1000 : -1);
		if (!in_time) {
			kill(pid, SIGKILL);
			if (o.fd >= 0)
				close(o.fd);
			if (e.fd >= 0)
				close(e.fd);
		}
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (got == sizeof(exec_errno))
		return bx_fail(err, exec_errno, "error running hook #%zu: fork/exec %s: %s", index, path,
			       strerror(exec_errno));
	if (!in_time)
		return bx_fail(err, ETIMEDOUT, "error running hook #%zu: hook ran past specified timeout of %.1fs",
			       index, (double)timeout);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	trim_newline(&o);
	trim_newline(&e);
	char why[64];
	if (WIFEXITED(st))
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(st));
	else
		snprintf(why, sizeof(why), "signal: %s", strsignal(WTERMSIG(st)));
	return bx_fail(err, 0, "error running hook #%zu: error running hook: %s, stdout: %s, stderr: %s", index, why,
		       o.kept, e.kept);
fail_pipes:
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 2; j++)
			if (pipes[i][j] >= 0)
				close(pipes[i][j]);
	return -1;
}

int rt_hooks_run(const struct rt_container *c, const char *kind, const char *status, struct bx_err *err)
{
	if (!c->hooks_json)
		return 0;
	_cleanup_json_ json_t *hooks = json_loads(c->hooks_json, 0, NULL);
	json_t *list = json_object_get(hooks, kind);
	if (!json_array_size(list))
		return 0;
	_cleanup_free_ char *state = state_text(c, status);
	if (!state)
		return bx_fail(err, ENOMEM, "out of memory");
	/* a hook that exits without reading its stdin (/bin/true) makes the
	 * state's write fail with EPIPE, which feed() takes as its EOF: it must
	 * not kill `delete` or `start` with SIGPIPE (the monitor ignores it too) */
	signal(SIGPIPE, SIG_IGN);
	size_t i;
	json_t *h;
	json_array_foreach(list, i, h) {
		rt_debug("running %s hook #%zu: %s", kind, i, json_string_value(json_object_get(h, "path")));
		if (run_one(c, h, i, state, err) < 0)
			return -1;
	}
	return 0;
}
