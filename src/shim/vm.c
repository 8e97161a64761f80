/* The box's child processes: spawning and reaping them, and QEMU
 * (virtiofsd is in virtiofsd.c). Each runs in its own process group (so a
 * kill reaches virtiofsd's sandbox child too) and dies with the shim
 * (PR_SET_PDEATHSIG). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/paths.h"
#include "../store/vmproc.h"
#include "../vm/qmp.h"
#include "shim.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67 /* Linux 6.4 */
#endif

void shim_child_die_with(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127); /* the shim died before prctl took effect */
}

/* KSM may merge this process's private anonymous pages with identical
 * ones of other processes (PR_SET_MEMORY_MERGE, Linux 6.4; kept across
 * exec since 6.7). It costs nothing while KSM is off (`boxvm system ksm`
 * turns it on): then what it merges across boxes is QEMU's heap (13 of its
 * 28 MiB are the same in every box) and passt's buffers, which are written
 * once at start and stay zero (22 of its 26 MiB resident); guest RAM is a
 * shared memfd (vhost-user needs it), which KSM never merges, and TCG's
 * translated code differs in every process (docs/ARCHITECTURE.md, "Guest
 * memory"). Needs CAP_SYS_RESOURCE, so a shim without root goes without. */
static void shim_child_ksm_mergeable(void)
{
	(void)prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0); /* EINVAL before 6.4, EPERM without root: no KSM for it */
}

void shim_child_init(pid_t parent, int out_fd)
{
	setpgid(0, 0);
	shim_child_die_with(parent);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	shim_child_ksm_mergeable();
	if (out_fd >= 0) {
		dup2(out_fd, 1);
		dup2(out_fd, 2);
	}
}

pid_t shim_spawn(struct shim *s, char *const argv[], int out_fd, struct bx_err *err)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return bx_fail(err, errno, "fork");
	if (pid > 0) {
		setpgid(pid, pid); /* also in the child: whichever runs first */
		return pid;
	}
	shim_child_init(parent, out_fd);
	shim_child_join_cgroup(s);
	execvp(argv[0], argv);
	dprintf(2, "boxvm-shim: cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void shim_kill_child(pid_t pid, int sig)
{
	if (pid > 0)
		kill(-pid, sig); /* the whole group */
}

/* Wait until no process of the group led by pgid is left, or until end_ms
 * (bx_mono_ms() time; one deadline can bound several groups). SIGKILL is
 * asynchronous: a killed process can still be listed for a moment, and "box
 * stopped" must mean its processes are gone. Orphaned group members are the
 * shim's to reap (a child subreaper, see shim_daemonize). */
void shim_wait_group_gone(struct shim *s, pid_t pgid, long long end)
{
	if (pgid <= 0)
		return;
	for (;;) {
		shim_reap(s);
		if ((kill(-pgid, 0) < 0 && errno == ESRCH) || bx_mono_ms() >= end)
			return;
		usleep(5 * 1000);
	}
}

/* Reap whatever exited; remember QEMU's end and its helpers' (aux.c). */
void shim_reap(struct shim *s)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p <= 0)
			return;
		if (p == s->qemu_pid) {
			s->qemu_exited = true;
			s->qemu_status = st;
			shim_log(s, false, "qemu exited (status 0x%x)", st);
		} else {
			shim_aux_reaped(s, p, st);
		}
	}
}

int shim_qmp(struct shim *s, const char *cmd, const char *args, struct json_t **ret, int timeout_ms,
	     struct bx_err *err)
{
	char sock[PATH_MAX];
	if (bx_path_join(sock, sizeof(sock), err, "%s/qmp.sock", s->spec.run_dir) < 0)
		return -1;
	return bx_qmp_call(sock, cmd, args, ret, timeout_ms, err);
}

int shim_wait_qemu(struct shim *s, int timeout_ms)
{
	long long end = bx_mono_ms() + timeout_ms;
	for (;;) {
		shim_reap(s);
		if (s->qemu_exited)
			return 0;
		if (bx_mono_ms() >= end)
			return -1;
		usleep(10 * 1000);
	}
}

void shim_last_line(const char *path, char *out, size_t size)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	out[0] = '\0';
	if (bx_read_tail(path, 4096, &text, &len, NULL) < 0)
		return;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	char *nl = strrchr(text, '\n');
	snprintf(out, size, "%s", nl ? nl + 1 : text);
}

/* Add words to QEMU's -append (for the test knobs below). */
static void append_to_cmdline(char **argv, const char *words)
{
	for (char **a = argv; a[0] && a[1]; a++) {
		char *more = NULL;
		if (!strcmp(a[0], "-append") && asprintf(&more, "%s %s", a[1], words) > 0) {
			free(a[1]);
			a[1] = more;
			return;
		}
	}
}

int shim_start_qemu(struct shim *s, struct bx_err *err)
{
	struct shim_qemu_fds q;
	struct bx_qemu_fds map;
	char **argv = NULL;
	if (shim_qemu_fds_open(s, &q, &map, err) < 0 || bx_qemu_argv(&s->spec, &map, &argv, err) < 0) {
		shim_qemu_fds_close(&q);
		return -1;
	}
	const char *alt = getenv("BOXVM_QEMU"); /* a test knob: another QEMU binary */
	if (alt && *alt) {
		char *dup = strdup(alt);
		if (dup) {
			free(argv[0]);
			argv[0] = dup;
		}
	}
	/* BOXVM_TEST_TIMERLESS_BOOTS=N, BOXVM_TEST_STALLED_BOOTS=N (test knobs):
	 * the box's first N boots come up without the guest's timer, as a
	 * stalled calibration leaves a kernel, or stall (a kernel that panics
	 * and waits runs no new code) -- freshboot.c's two causes */
	const char *timerless = getenv("BOXVM_TEST_TIMERLESS_BOOTS");
	const char *stalled = getenv("BOXVM_TEST_STALLED_BOOTS");
	if (timerless && s->fresh_boots < atoi(timerless))
		append_to_cmdline(argv, "nolapic_timer");
	if (stalled && s->fresh_boots < atoi(stalled))
		append_to_cmdline(argv, "rdinit=/nonexistent panic=0");
	if (s->debug) {
		char line[8192];
		size_t off = 0;
		for (char **a = argv; *a && off < sizeof(line) - 2; a++)
			off += (size_t)snprintf(line + off, sizeof(line) - off, "%s ", *a);
		shim_log(s, false, "qemu: %s", line);
	}
	int rc = 0;
	if (shim_capture_start(s, &s->console, q.console[0], "console.log", err) == 0)
		q.console[0] = -1; /* the capture owns it */
	else
		rc = -1;
	if (rc == 0 && shim_capture_start(s, &s->qerr, q.err[0], "qemu.log", err) == 0)
		q.err[0] = -1;
	else
		rc = -1;
	if (rc == 0) {
		s->qemu_pid = shim_qemu_spawn(s, argv, &q, err);
		if (s->qemu_pid < 0)
			rc = bx_wrap(err, "cannot start qemu");
	}
	bx_strv_free(argv);
	if (rc == 0) {
		fcntl(q.ctl[0], F_SETFL, fcntl(q.ctl[0], F_GETFL) | O_NONBLOCK);
		s->ctl_fd = q.ctl[0];
		q.ctl[0] = -1;
	}
	shim_qemu_fds_close(&q); /* QEMU's copies (and ours, on failure) */
	if (rc < 0)
		return -1;
	/* for boxvm stats (src/store/vmproc.h); the box runs fine without it */
	struct bx_err e;
	if (bx_qemu_pid_write(s->spec.run_dir, s->qemu_pid, &e) < 0)
		shim_log(s, true, "cannot record qemu's pid: %s", e.msg);
	return 0;
}

/* QEMU is up once its monitor answers (it accepts on the QMP listener only
 * from its main loop, after the machine is built); stop at once if QEMU
 * exited instead. The control link itself is a socketpair, connected from
 * the start. */
int shim_connect_ctl(struct shim *s, struct bx_err *err)
{
	char sock[PATH_MAX];
	if (bx_path_join(sock, sizeof(sock), err, "%s/qmp.sock", s->spec.run_dir) < 0)
		return -1;
	struct bx_err qe;
	if (bx_qmp_execute(sock, "query-status", 30000, &qe) == 0)
		return 0;
	/* the monitor went away with QEMU: wait for its exit to be reaped */
	shim_wait_qemu(s, 2000);
	if (!s->qemu_exited)
		return bx_fail(err, 0, "qemu did not come up: %s", qe.msg);
	shim_capture_finish(s, &s->qerr); /* its last words, into qemu.log */
	char qlog[PATH_MAX], line[512];
	line[0] = '\0';
	if (bx_path_join(qlog, sizeof(qlog), NULL, "%s/qemu.log", s->spec.box_dir) == 0)
		shim_last_line(qlog, line, sizeof(line));
	return bx_fail(err, 0, "qemu exited at start%s%s", line[0] ? ": " : "", line);
}
