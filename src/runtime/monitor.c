/* The monitor: the process whose pid is the container's (see rt.h).
 *
 * created: it holds the caller's stdio and waits on its control socket.
 * boot:    an exec into the created container: the shim boots the VM with
 *          main held (vm.json's hold_main), and the monitor answers once the
 *          guest does (GUEST_UP); the container stays "created".
 * start:   it gives the box a warm-pool VM that fits (src/box/pool.h) or
 *          starts its shim (which boots the VM with the main process in
 *          it), or releases the held main of a booted one (SIGUSR2 value
 *          2), and attaches its fds 0-2 to the main process: the shim then
 *          writes the guest's output straight into the caller's pipes or pty.
 * running: `kill` requests and signals sent to the monitor itself become
 *          SIGNAL messages to the main process (the shim unpauses a paused
 *          VM first); SIGWINCH on the terminal becomes RESIZE; `pause` and
 *          `resume` go to the shim as SIGUSR2 (value 1 / 0).
 * exit:    on the shim's EXIT (sent after the VM is gone) the monitor waits
 *          for the shim process to end and exits with the main process's code.
 * The shim is known by a pidfd (the attach socket's peer): a cold boot's is
 * the monitor's child (it is a child subreaper), a pool VM's is not. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../box/pool.h"
#include "../client/shim_client.h"
#include "../common/cleanup.h"
#include "../common/reply.h"
#include "../common/unixsock.h"
#include "../proto/frame.h"
#include "../proto/msg.h"
#include "../vm/vmspec.h"
#include "rt.h"

struct mon {
	const struct rt_monitor_args *a;
	int sig_fd;
	int attach_fd;   /* -1 until booted or started */
	bool booted;     /* the VM is up with main held (an exec came before start) */
	bool running;
	bool tty;
	int shim_pidfd; /* -1 until booted or started */
	struct bx_msgbuf in;
};

static bool shim_alive(const struct mon *m)
{
	struct pollfd p = {.fd = m->shim_pidfd, .events = POLLIN};
	return m->shim_pidfd >= 0 && poll(&p, 1, 0) == 0;
}

/* sigqueue(3) through the pidfd: the shim reads the value (lifecycle.c) */
static int signal_shim(const struct mon *m, int sig, int value)
{
	siginfo_t si = {.si_signo = sig, .si_code = SI_QUEUE, .si_pid = getpid(), .si_uid = getuid()};
	si.si_value.sival_int = value;
	if (m->shim_pidfd < 0) {
		errno = ESRCH;
		return -1;
	}
	return (int)syscall(SYS_pidfd_send_signal, m->shim_pidfd, sig, &si, 0);
}

static void send_msg(struct mon *m, uint8_t kind, const void *payload, uint32_t len)
{
	uint8_t buf[BX_MSG_HDR_SIZE + 8];
	if (m->attach_fd < 0 || len > 8)
		return;
	bx_msg_encode_hdr(buf, kind, len);
	memcpy(buf + BX_MSG_HDR_SIZE, payload, len);
	/* tiny messages on a socket the shim drains: a blocking send is brief */
	if (send(m->attach_fd, buf, BX_MSG_HDR_SIZE + len, MSG_NOSIGNAL) < 0)
		rt_debug("monitor: cannot send message %u to the shim: %s", kind, strerror(errno));
}

static void send_signal(struct mon *m, int sig)
{
	uint8_t le[4];
	bx_put_u32(le, (uint32_t)sig);
	send_msg(m, BX_M_SIGNAL, le, 4);
}

static void send_resize(struct mon *m)
{
	struct winsize ws;
	if (!m->tty || ioctl(0, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return;
	uint8_t b[4];
	bx_put_u16(b, ws.ws_row);
	bx_put_u16(b + 2, ws.ws_col);
	send_msg(m, BX_M_RESIZE, b, 4);
}

/* a cold boot's shim, and whatever else ends up ours as the subreaper */
static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* ROOT/ID/stopped: written when a container that never started is ended,
 * before the monitor answers the `kill`, so that a `state` right after it
 * already says "stopped" (the pid itself is gone a moment later). A started
 * container is stopped when its pid is gone, as runc's is. */
static void mark_stopped(struct mon *m)
{
	char path[PATH_MAX];
	struct bx_err err;
	if (bx_path_join(path, sizeof(path), &err, "%s/stopped", m->a->c->dir) < 0 ||
	    bx_write_file_atomic(path, "", 0, 0644, &err) < 0)
		rt_debug("monitor: %s", err.msg);
}

static void __attribute__((noreturn)) finish(struct mon *m, int code)
{
	if (!m->running)
		mark_stopped(m);
	if (!m->running && shim_alive(m))
		signal_shim(m, SIGTERM, 0); /* a held main never ran: the VM just goes */
	unlink(m->a->c->ctl_sock);
	if (m->attach_fd >= 0)
		close(m->attach_fd);
	/* the shim sends EXIT after its VM is gone and exits right after: wait
	 * for it so that nothing of the box outlives the container's pid (a
	 * hang guard of 5 s) */
	struct pollfd p = {.fd = m->shim_pidfd, .events = POLLIN};
	if (m->shim_pidfd >= 0 && poll(&p, 1, 5000) == 0)
		signal_shim(m, SIGTERM, 0);
	reap();
	_exit(code);
}

/* Wait for the shim's STARTED: only then does the main process exist in the
 * guest, so a signal sent after `start` returns reaches it (runc's start
 * returns once the process runs). The shim reports a main that could not
 * start with ERROR then EXIT; that EXIT is kept in m->in for on_shim. The
 * shim bounds the boot itself; this wait is a hang guard only. */
static int wait_for(struct mon *m, uint8_t kind, struct bx_err *err)
{
	char why[512] = "";
	for (;;) {
		struct bx_msg msg;
		int r;
		while ((r = bx_msgbuf_next(&m->in, &msg, err)) > 0) {
			if (msg.kind == kind)
				return 0;
			if (msg.kind == BX_M_ERROR && !why[0])
				snprintf(why, sizeof(why), "%.*s", (int)(msg.len < sizeof(why) - 1 ? msg.len : sizeof(why) - 1),
					 (const char *)msg.payload);
			if (msg.kind == BX_M_EXIT)
				return bx_fail(err, 0, "%s", why[0] ? why : "its process exited before it started");
		}
		if (r < 0)
			return -1;
		struct pollfd p = {.fd = m->attach_fd, .events = POLLIN};
		int n = poll(&p, 1, 240000); /* under ctl.c's 300 s */
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bx_fail(err, 0, "its process did not start within 240 s");
		uint8_t buf[4096];
		ssize_t got = recv(m->attach_fd, buf, sizeof(buf), 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return bx_fail(err, 0, "its supervisor went away before the process started");
		if (bx_msgbuf_append(&m->in, buf, (size_t)got, err) < 0)
			return -1;
	}
}

static int wait_started(struct mon *m, struct bx_err *err)
{
	return wait_for(m, BX_M_STARTED, err);
}

/* The box's vm.json as it is now (`update` may have changed it since create) */
static struct bx_vmspec *read_vm(const struct mon *m, char *path, size_t size, struct bx_err *err)
{
	struct bx_vmspec *vm = calloc(1, sizeof(*vm)); /* large */
	if (!vm) {
		bx_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (bx_path_join(path, size, err, "%s/vm.json", m->a->vm->box_dir) < 0 || bx_vmspec_read(path, vm, err) < 0) {
		free(vm);
		return NULL;
	}
	return vm;
}

/* The shim, started (a pool VM's that fits, or a cold boot's), and our
 * attach (fds 0-2 for main, STARTED, GUEST_UP) */
static int shim_up(struct mon *m, const struct bx_vmspec *vm, struct bx_err *err)
{
	if (bx_box_boot(m->a->paths, vm, err) < 0)
		return -1;
	char sock[PATH_MAX];
	if (bx_path_join(sock, sizeof(sock), err, "%s/attach.sock", m->a->c->run_dir) < 0)
		return -1;
	_cleanup_close_ int fd = bx_unix_connect(sock, err);
	if (fd < 0)
		return bx_wrap(err, "cannot attach to the box's supervisor");
	/* the shim is whoever listens there; its pid cannot have been reused
	 * before pidfd_open unless it died and the pid space wrapped around in
	 * between, and a dead shim shows as EOF on the attach all the same */
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0 ||
	    (m->shim_pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0)) < 0)
		return bx_fail(err, errno, "cannot follow the box's supervisor");
	if (bx_shim_send_attach(fd, BX_ATTACH_STDIN | BX_ATTACH_STARTED | BX_ATTACH_GUEST_UP, err) < 0)
		return -1;
	m->attach_fd = BX_TAKE_FD(fd);
	return 0;
}

/* An exec before start: the VM boots with main held (vm.json's hold_main,
 * written back; no pool VM serves a held main: a cold boot) */
static int do_boot(struct mon *m, struct bx_err *err)
{
	char path[PATH_MAX];
	_cleanup_free_ struct bx_vmspec *vm = read_vm(m, path, sizeof(path), err);
	if (!vm)
		return -1;
	vm->hold_main = true;
	if (bx_vmspec_write(path, vm, err) < 0 || shim_up(m, vm, err) < 0 || wait_for(m, BX_M_GUEST_UP, err) < 0)
		return -1;
	m->booted = true;
	return 0;
}

static int do_start(struct mon *m, struct bx_err *err)
{
	if (m->booted) {
		if (signal_shim(m, SIGUSR2, 2) < 0)
			return bx_fail(err, errno, "cannot release the box's held process");
	} else {
		char path[PATH_MAX];
		_cleanup_free_ struct bx_vmspec *vm = read_vm(m, path, sizeof(path), err);
		if (!vm || shim_up(m, vm, err) < 0)
			return -1;
	}
	send_resize(m); /* consoleSize: queued for main before it runs */
	if (wait_started(m, err) < 0)
		return -1;
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/started", m->a->c->dir) < 0 ||
	    bx_write_file_atomic(path, "", 0, 0644, err) < 0)
		return -1;
	m->running = true;
	send_resize(m);
	return 0;
}

static void reply(int fd, const char *text)
{
	char line[1500];
	int n = snprintf(line, sizeof(line), "%s\n", text);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1, line[n - 1] = '\n';
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) < 0) {
		/* the client went away; it learns the outcome from `state` */
	}
}

/* One control connection: read its line (a hang guard of 5 s), act, answer. */
static void on_ctl(struct mon *m)
{
	int fd = accept4(m->a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	char line[256];
	bx_reply_read(fd, line, sizeof(line), 5000);
	int sig = 0;
	if (!strcmp(line, "boot")) {
		struct bx_err err;
		if (m->running || m->booted) {
			reply(fd, "ok");
		} else if (do_boot(m, &err) < 0) {
			char msg[1400];
			snprintf(msg, sizeof(msg), "error: container \"%.200s\": %s", m->a->c->id, err.msg);
			reply(fd, msg);
			close(fd);
			finish(m, BX_EXIT_ERROR);
		} else {
			reply(fd, "ok");
		}
	} else if (!strcmp(line, "start")) {
		if (m->running) {
			reply(fd, "error: cannot start an already running container");
		} else {
			struct bx_err err;
			if (do_start(m, &err) < 0) {
				char msg[1400];
				snprintf(msg, sizeof(msg), "error: container \"%.200s\": %s", m->a->c->id, err.msg);
				reply(fd, msg);
				close(fd);
				finish(m, BX_EXIT_ERROR);
			}
			reply(fd, "ok");
		}
	} else if (!strcmp(line, "pause") || !strcmp(line, "resume")) {
		/* through the shim's pidfd: never another process */
		if (!m->running || !shim_alive(m))
			reply(fd, "error: container not running");
		else if (signal_shim(m, SIGUSR2, !strcmp(line, "pause")) < 0)
			reply(fd, "error: cannot signal the box's supervisor");
		else
			reply(fd, "ok");
	} else if (sscanf(line, "kill %d", &sig) == 1 && sig >= 1 && sig <= 64) {
		if (!m->running) {
			mark_stopped(m); /* nothing ran: the container just stops */
			reply(fd, "ok");
			close(fd);
			finish(m, 128 + sig);
		}
		reply(fd, "ok");
		send_signal(m, sig);
	} else {
		reply(fd, "error: unknown request");
	}
	close(fd);
}

static void on_signals(struct mon *m)
{
	struct signalfd_siginfo si;
	while (read(m->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;
		if (sig == SIGCHLD)
			reap();
		else if (sig == SIGWINCH)
			send_resize(m);
		else if (m->running)
			send_signal(m, sig);
		else
			finish(m, 128 + sig);
	}
}

static void on_shim(struct mon *m)
{
	uint8_t buf[4096];
	ssize_t n = recv(m->attach_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	struct bx_err err;
	if (n <= 0 || bx_msgbuf_append(&m->in, buf, (size_t)n, &err) < 0) {
		rt_error("container \"%s\": its supervisor went away before the container exited", m->a->c->id);
		finish(m, BX_EXIT_ERROR);
	}
	struct bx_msg msg;
	while (bx_msgbuf_next(&m->in, &msg, &err) > 0) {
		if (msg.kind == BX_M_ERROR)
			rt_error("container \"%s\": %.*s", m->a->c->id, (int)msg.len, (const char *)msg.payload);
		else if (msg.kind == BX_M_EXIT && msg.len == 4)
			finish(m, (int)(int32_t)bx_get_u32(msg.payload) & 0xff);
	}
}

static int setup(struct mon *m, struct bx_err *err)
{
	const struct rt_monitor_args *a = m->a;
	if (setsid() < 0)
		return bx_fail(err, errno, "setsid");
	if (a->tty_slave >= 0 && rt_console_adopt(a->tty_slave, err) < 0)
		return -1;
	rt_close_inherited((const int[]){a->listen_fd, a->sync_fd}, 2);
	if (a->netns_path) {
		_cleanup_close_ int fd = open(a->netns_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return bx_fail(err, errno, "cannot open network namespace %s", a->netns_path);
		if (setns(fd, CLONE_NEWNET) < 0)
			return bx_fail(err, errno, "cannot join network namespace %s", a->netns_path);
	}
	/* The box's host name lives in the guest; this namespace only shows it
	 * to the host: containerd's CRI points a pod's containers at the
	 * sandbox's /proc/PID/ns/uts (PID: this monitor), and their create
	 * takes the name from it (create.c, hostname_from_uts). */
	if (a->uts_name && unshare(CLONE_NEWUTS) == 0 && sethostname(a->uts_name, strlen(a->uts_name)) < 0)
		return bx_fail(err, errno, "cannot name the container's UTS namespace");
	/* (without CAP_SYS_ADMIN, e.g. a rootless caller, there is none: no joiner either) */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigset_t set;
	sigemptyset(&set);
	int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	m->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m->sig_fd < 0)
		return bx_fail(err, errno, "signalfd");
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void rt_monitor_run(const struct rt_monitor_args *a)
{
	struct mon m = {.a = a, .sig_fd = -1, .attach_fd = -1, .shim_pidfd = -1, .tty = a->tty_slave >= 0};
	bx_msgbuf_init(&m.in);
	struct bx_err err;
	int sync_fd = a->sync_fd;
	if (setup(&m, &err) < 0) {
		dprintf(sync_fd, "error: %s\n", err.msg);
		close(sync_fd);
		_exit(BX_EXIT_ERROR);
	}
	dprintf(sync_fd, "ok\n");
	close(sync_fd);
	for (;;) {
		struct pollfd p[3];
		int n = 0;
		p[n++] = (struct pollfd){.fd = m.sig_fd, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = a->listen_fd, .events = POLLIN};
		if (m.attach_fd >= 0)
			p[n++] = (struct pollfd){.fd = m.attach_fd, .events = POLLIN};
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			rt_error("monitor: poll: %s", strerror(errno));
			finish(&m, BX_EXIT_ERROR);
		}
		if (p[0].revents)
			on_signals(&m);
		if (p[1].revents)
			on_ctl(&m);
		if (n > 2 && p[2].revents)
			on_shim(&m);
	}
}
