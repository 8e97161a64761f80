/* Becoming a daemon, the readiness report on the sync fd, signals and logging.
 *
 * Daemonizing: the shim forks itself once. The CLI runs
 * `boxvm-shim --sync-fd N BOXDIR/vm.json` as its child; that process forks the
 * real shim and exits 0 at once (so the CLI's waitpid returns immediately and
 * never leaves a zombie), and the real shim calls setsid so the terminal's
 * signals and the CLI's exit never reach it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "../common/paths.h"
#include "../common/safetext.h"
#include "shim.h"

/* The log is quiet by default: errors and a line or two per box, everything
 * else only with BOXVM_DEBUG. */
void shim_log(struct shim *s, bool always, const char *fmt, ...)
{
	if ((!always && !s->debug) || s->log_fd < 0)
		return;
	char line[2048];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	int n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ldZ shim[%d]: ", ts.tv_nsec / 1000000, getpid());
	/* messages carry guest text (its ERRORs, the console tail): each is one
	 * line with every control character escaped (src/common/safetext.h) */
	char msg[sizeof(line)];
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t mlen = m < 0 ? 0 : (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1;
	n += (int)bx_safe_text(line + n, sizeof(line) - (size_t)n - 1, msg, mlen);
	line[n++] = '\n';
	if (write(s->log_fd, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

int shim_daemonize(struct shim *s, struct bx_err *err)
{
	pid_t pid = fork();
	if (pid < 0)
		return bx_fail(err, errno, "fork");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return bx_fail(err, errno, "setsid");
	/* A helper's own children (virtiofsd's sandbox child) are reparented to
	 * the shim when their parent dies, not to init: the shim reaps them and
	 * can tell that a killed process group is really gone before it reports
	 * the box stopped (shim_wait_group_gone). */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return bx_fail(err, errno, "cannot become a child subreaper");
	if (chdir("/") < 0)
		return bx_fail(err, errno, "chdir /");
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return bx_fail(err, errno, "cannot open /dev/null");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(null, fd) < 0) /* dup2 clears CLOEXEC on 0-2 */
			return bx_fail(err, errno, "dup2");
	close(null);
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/shim.log", s->spec.box_dir) < 0)
		return -1;
	s->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (s->log_fd < 0)
		return bx_fail(err, errno, "cannot open %s", path);
	if (bx_mkdir_p(s->spec.run_dir, 0700, err) < 0)
		return -1;
	char pidtxt[32];
	int n = snprintf(pidtxt, sizeof(pidtxt), "%d\n", getpid());
	if (bx_path_join(path, sizeof(path), err, "%s/shim.pid", s->spec.run_dir) < 0 ||
	    bx_write_file_atomic(path, pidtxt, (size_t)n, 0600, err) < 0)
		return -1;
	return 0;
}

void shim_sync_report(int *sync_fd, int code, const char *error)
{
	if (*sync_fd < 0)
		return;
	char line[1200];
	int n = !error				   ? snprintf(line, sizeof(line), "ok\n")
		: code > 0 && code != BX_EXIT_ERROR ? snprintf(line, sizeof(line), "error %d: %s\n", code & 255, error)
						   : snprintf(line, sizeof(line), "error: %s\n", error);
	if (n >= (int)sizeof(line)) {
		n = (int)sizeof(line);
		line[n - 1] = '\n';
	}
	for (char *c = line; c < line + n - 1; c++)
		if (*c == '\n')
			*c = ' ';
	if (write(*sync_fd, line, (size_t)n) < 0) {
		/* the CLI went away; it will find out from exit_code */
	}
	/* after an error the shim is about to exit: the fd stays open so that the
	 * CLI's EOF means this process is gone, not merely finishing */
	if (error)
		return;
	close(*sync_fd);
	*sync_fd = -1;
}

/* SIGCHLD/SIGTERM/SIGINT/SIGHUP arrive on a signalfd; SIGPIPE is ignored (a
 * client that went away shows up as EPIPE). Children reset both in vm.c. */
int shim_signals(struct shim *s, struct bx_err *err)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1); /* from the CLI (stop/kill): a signal for main, see lifecycle.c */
	sigaddset(&set, SIGUSR2); /* from the CLI: pause/unpause the VM, see pause.c */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return bx_fail(err, errno, "sigprocmask");
	s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sig_fd < 0)
		return bx_fail(err, errno, "signalfd");
	signal(SIGPIPE, SIG_IGN);
	return 0;
}
