/* boxvm-runtime run [create's flags] [--detach] [--keep] [--no-subreaper] ID:
 * create, start and (without --detach) wait, as runc's run. The monitor is
 * forked by create in this very process, so it is our child: its exit status
 * is the container's. Without --keep the container is deleted after it
 * exits, as runc does. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "rt.h"

static volatile sig_atomic_t monitor_pid;

/* runc's run forwards the signals it gets to the container: the monitor
 * forwards them on to the main process */
static void forward(int sig)
{
	if (monitor_pid > 0)
		kill(monitor_pid, sig);
}

int rt_cmd_run(const struct rt_globals *g, int argc, char **argv)
{
	/* run's own flags come out; the rest is create's command line */
	char **cargv = calloc((size_t)argc + 1, sizeof(char *));
	if (!cargv) {
		rt_error("out of memory");
		return 1;
	}
	bool detach = false, keep = false;
	int cargc = 0;
	const char *id = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *n = a[0] == '-' ? a + (a[1] == '-' ? 2 : 1) : NULL;
		if (n && (!strcmp(n, "detach") || !strcmp(n, "d"))) {
			detach = true;
			continue;
		}
		if (n && (!strcmp(n, "keep") || !strcmp(n, "no-subreaper")))
		{
			keep = keep || !strcmp(n, "keep");
			continue;
		}
		cargv[cargc++] = argv[i];
		/* create's flags with a value: the word after them is not the ID */
		if (n && !strchr(n, '=') &&
		    (!strcmp(n, "bundle") || !strcmp(n, "b") || !strcmp(n, "pid-file") || !strcmp(n, "console-socket") ||
		     !strcmp(n, "preserve-fds") || !strcmp(n, "notify-socket"))) {
			if (i + 1 < argc)
				cargv[cargc++] = argv[++i];
		} else if (!n) {
			id = a;
		}
	}
	if (rt_cmd_create(g, cargc, cargv) != 0) {
		free(cargv);
		return 1;
	}
	free(cargv);
	struct rt_container c;
	struct bx_err err;
	if (rt_container_load(g, id, &c, &err) < 0) {
		rt_error("%s", err.msg);
		rt_container_free(&c);
		return 1;
	}
	char *start_argv[] = {(char *)id, NULL};
	if (rt_cmd_start(g, 1, start_argv) != 0) {
		rt_container_destroy(&c, &err);
		rt_container_free(&c);
		return 1;
	}
	if (detach) {
		rt_container_free(&c);
		return 0;
	}
	monitor_pid = c.pid;
	int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], forward);
	int st = 0;
	while (waitpid(c.pid, &st, 0) < 0 && errno == EINTR)
		;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (!keep && rt_container_destroy(&c, &err) < 0)
		rt_error("%s", err.msg);
	rt_container_free(&c);
	return code;
}
