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

#include "../lib/paths.h"
#include "../lib/vmproc.h"
#include "shim.h"

void shim_child_init(pid_t parent, int out_fd)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127); /* the shim died before prctl took effect */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
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
 * (shim_now_ms() time; one deadline can bound several groups). SIGKILL is
 * asynchronous: a killed process can still be listed for a moment, and "box
 * stopped" must mean its processes are gone. Orphaned group members are the
 * shim's to reap (a child subreaper, see shim_daemonize). */
void shim_wait_group_gone(struct shim *s, pid_t pgid, long long end)
{
	if (pgid <= 0)
		return;
	for (;;) {
		shim_reap(s);
		if ((kill(-pgid, 0) < 0 && errno == ESRCH) || shim_now_ms() >= end)
			return;
		usleep(5 * 1000);
	}
}

/* Reap whatever exited; remember QEMU's and virtiofsd's ends. */
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
		} else if (p == s->vfs_pid) {
			s->vfs_exited = true;
			shim_log(s, !s->end, "virtiofsd exited (status 0x%x)", st);
		} else {
			shim_aux_reaped(s, p, st);
		}
	}
}

/* Wait up to timeout_ms for pid to be reaped; 0 if it was. */
int shim_wait_child(struct shim *s, pid_t pid, int timeout_ms)
{
	long long end = shim_now_ms() + timeout_ms;
	for (;;) {
		shim_reap(s);
		if ((pid == s->qemu_pid && s->qemu_exited) || (pid == s->vfs_pid && s->vfs_exited))
			return 0;
		if (shim_now_ms() >= end)
			return -1;
		usleep(10 * 1000);
	}
}

static void last_line(const char *path, char *out, size_t size)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	out[0] = '\0';
	if (bx_read_file(path, &text, &len, NULL) < 0)
		return;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	char *nl = strrchr(text, '\n');
	snprintf(out, size, "%s", nl ? nl + 1 : text);
}

/* last_line for the other files (virtiofsd.c) */
void shim_last_line(const char *path, char *out, size_t size)
{
	last_line(path, out, size);
}

int shim_start_qemu(struct shim *s, struct bx_err *err)
{
	char **argv = NULL;
	if (bx_qemu_argv(&s->spec, &argv, err) < 0)
		return -1;
	const char *q = getenv("BOXVM_QEMU"); /* a test knob: another QEMU binary */
	if (q && *q) {
		char *dup = strdup(q);
		if (dup) {
			free(argv[0]);
			argv[0] = dup;
		}
	}
	if (s->debug) {
		char line[8192];
		size_t off = 0;
		for (char **a = argv; *a && off < sizeof(line) - 2; a++)
			off += (size_t)snprintf(line + off, sizeof(line) - off, "%s ", *a);
		shim_log(s, false, "qemu: %s", line);
	}
	char qlog[PATH_MAX];
	if (bx_path_join(qlog, sizeof(qlog), err, "%s/qemu.log", s->spec.box_dir) < 0) {
		bx_strv_free(argv);
		return -1;
	}
	int qfd = open(qlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (qfd < 0) {
		bx_strv_free(argv);
		return bx_fail(err, errno, "cannot open %s", qlog);
	}
	/* QEMU inherits its end of the passt socketpair (CLOEXEC until now) */
	if (s->spec.net_fd > 0)
		fcntl(s->spec.net_fd, F_SETFD, 0);
	s->qemu_pid = shim_spawn(s, argv, qfd, err);
	close(qfd);
	if (s->spec.net_fd > 0) {
		close(s->spec.net_fd);
		s->spec.net_fd = 0;
	}
	bx_strv_free(argv);
	if (s->qemu_pid < 0)
		return bx_wrap(err, "cannot start qemu");
	/* for boxvm stats (src/lib/vmproc.h); the box runs fine without it */
	struct bx_err e;
	if (bx_qemu_pid_write(s->spec.run_dir, s->qemu_pid, &e) < 0)
		shim_log(s, true, "cannot record qemu's pid: %s", e.msg);
	return 0;
}

/* QEMU creates ctl.sock (server=on) early in its start-up; connect as soon as
 * it exists, and stop at once if QEMU exited instead. */
int shim_connect_ctl(struct shim *s, struct bx_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (bx_path_join(sa.sun_path, sizeof(sa.sun_path), err, "%s/ctl.sock", s->spec.run_dir) < 0)
		return -1;
	long long end = shim_now_ms() + 30000;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return bx_fail(err, errno, "socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			s->ctl_fd = fd;
			return 0;
		}
		int e = errno;
		close(fd);
		shim_reap(s);
		if (s->qemu_exited) {
			char qlog[PATH_MAX], line[512];
			line[0] = '\0';
			if (bx_path_join(qlog, sizeof(qlog), NULL, "%s/qemu.log", s->spec.box_dir) == 0)
				last_line(qlog, line, sizeof(line));
			return bx_fail(err, 0, "qemu exited at start%s%s", line[0] ? ": " : "", line);
		}
		if (e != ENOENT && e != ECONNREFUSED)
			return bx_fail(err, e, "cannot connect to %s", sa.sun_path);
		if (shim_now_ms() > end)
			return bx_fail(err, 0, "qemu did not create its control socket within 30 s");
		usleep(5 * 1000);
	}
}
