/* Starting, finding and stopping a network's daemon, boxvm-netd (networks.h). */
#include "../common/cleanup.h"
#include "networks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/boxid.h"
#include "../common/forkpipe.h"
#include "../common/netlink.h"
#include "../vm/vmspec.h"
#include "../common/reply.h"
#include "../common/unixsock.h"
#include "state.h"

#define NETD_START_TIMEOUT_MS 10000

static int run_file(const struct bx_paths *p, const char *net_id, const char *ext, char *out, size_t size,
		    struct bx_err *err)
{
	if (!bx_boxid_valid(net_id))
		return bx_fail(err, 0, "invalid network ID %s", net_id);
	if (bx_mkdir_p(p->run, 0700, err) < 0)
		return -1;
	return bx_path_join(out, size, err, "%s/net-%.12s.%s", p->run, net_id, ext);
}

/* The daemon recorded in RUN/net-<id12>.pid if it still runs; 0 if not. */
static int netd_alive(const struct bx_paths *p, const char *net_id, unsigned long long *start)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	int pid = 0;
	if (run_file(p, net_id, "pid", path, sizeof(path), NULL) < 0 || bx_read_file(path, &text, NULL, NULL) < 0 ||
	    sscanf(text, "%d %llu", &pid, start) != 2 || pid <= 1 || !bx_proc_alive(pid, *start))
		return 0;
	return pid;
}

static int spawn(const struct bx_paths *p, const char *net_id, struct bx_err *err)
{
	char netd[PATH_MAX];
	if (bx_path_join(netd, sizeof(netd), err, "%s/boxvm-netd", p->libexec) < 0)
		return -1;
	int sync[2];
	if (pipe2(sync, O_CLOEXEC) < 0)
		return bx_fail(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(sync[0]);
		close(sync[1]);
		return bx_fail(err, errno, "fork");
	}
	if (pid == 0) {
		/* a session of its own, re-parented away: it outlives every box
		 * and command, until `network rm` (or the host's reboot) */
		setsid();
		pid_t g = fork();
		if (g != 0)
			_exit(g < 0 ? 1 : 0);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		if (dup2(sync[1], 3) != 3)
			_exit(127);
		close_range(4, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(netd, netd, p->data, p->run, net_id, (char *)NULL);
		dprintf(3, "error: cannot run %s: %s\n", netd, strerror(errno));
		_exit(127);
	}
	close(sync[1]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	char line[1024], silent[160];
	bx_reply_read(sync[0], line, sizeof(line), NETD_START_TIMEOUT_MS);
	close(sync[0]);
	snprintf(silent, sizeof(silent), "the daemon of network %.12s (boxvm-netd) did not start", net_id);
	return bx_reply_check(line, silent, err);
}

int bx_netd_ensure(const struct bx_paths *p, const char *net_id, struct bx_err *err)
{
	char lockp[PATH_MAX];
	unsigned long long start;
	if (run_file(p, net_id, "lock", lockp, sizeof(lockp), err) < 0)
		return -1;
	int lock = bx_lock_file(lockp, LOCK_EX, err);
	if (lock < 0)
		return -1;
	int rc = netd_alive(p, net_id, &start) > 0 ? 0 : spawn(p, net_id, err);
	close(lock);
	return rc;
}

void bx_netd_sync(const struct bx_paths *p, const char *net_id)
{
	char path[PATH_MAX], line[16];
	unsigned long long start;
	if (!netd_alive(p, net_id, &start) || run_file(p, net_id, "sock", path, sizeof(path), NULL) < 0)
		return;
	_cleanup_close_ int fd = bx_unix_connect(path, NULL);
	if (fd < 0 || write(fd, "reload\n", 7) != 7)
		return;
	/* a moment (it re-reads the records); a daemon that hangs costs this hang guard */
	bx_reply_read(fd, line, sizeof(line), 5000);
}

int bx_netd_netns_open(const struct bx_paths *p, const char *net_id, struct bx_err *err)
{
	unsigned long long start;
	int pid = netd_alive(p, net_id, &start);
	if (!pid)
		return bx_fail(err, ESRCH, "the daemon of network %.12s is not running", net_id);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "cannot open %s", path);
	/* still the same process once opened: the namespace is the network's */
	if (!bx_proc_alive(pid, start)) {
		close(fd);
		return bx_fail(err, ESRCH, "the daemon of network %.12s exited", net_id);
	}
	return fd;
}

void bx_netd_stop(const struct bx_paths *p, const char *net_id)
{
	char lockp[PATH_MAX], pidp[PATH_MAX];
	unsigned long long start;
	if (run_file(p, net_id, "lock", lockp, sizeof(lockp), NULL) < 0 ||
	    run_file(p, net_id, "pid", pidp, sizeof(pidp), NULL) < 0)
		return;
	int lock = bx_lock_file(lockp, LOCK_EX, NULL);
	int pid = netd_alive(p, net_id, &start);
	if (pid > 0) {
		int pidfd = bx_proc_pidfd(pid, start);
		kill(pid, SIGTERM);
		if (pidfd >= 0 && bx_pidfd_wait(pidfd, 5000, "boxvm-netd", NULL) < 0) {
			kill(pid, SIGKILL);
			bx_pidfd_wait(pidfd, 5000, "boxvm-netd", NULL);
		}
		if (pidfd >= 0)
			close(pidfd);
	}
	unlink(pidp);
	char sockp[PATH_MAX];
	if (run_file(p, net_id, "sock", sockp, sizeof(sockp), NULL) == 0)
		unlink(sockp);
	unlink(lockp);
	if (lock >= 0)
		close(lock);
}

/* Run fn in a forked child (it may change namespaces). What it returns
 * (>= 0) or its failure's message comes back over a pipe. */
static int in_child(int (*fn)(void *arg, struct bx_err *e), void *arg, struct bx_err *err)
{
	int fd;
	pid_t pid = bx_fork_pipe(&fd, true, err);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct bx_err e = {0};
		int r = fn(arg, &e);
		char text[sizeof(e.msg) + 16];
		int n = r < 0 ? snprintf(text, sizeof(text), "%s", e.msg) : snprintf(text, sizeof(text), "=%d", r);
		if (write(fd, text, (size_t)n) < 0)
			_exit(2);
		_exit(r < 0 ? 1 : 0);
	}
	char msg[sizeof(err->msg)];
	size_t have = 0;
	ssize_t n;
	while (have < sizeof(msg) - 1 &&
	       ((n = read(fd, msg + have, sizeof(msg) - 1 - have)) > 0 || (n < 0 && errno == EINTR)))
		have += n > 0 ? (size_t)n : 0;
	msg[have] = '\0';
	close(fd);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && msg[0] == '=')
		return atoi(msg + 1);
	return bx_fail(err, 0, "%s", have && msg[0] != '=' ? msg : "the network helper died");
}

/* The lowest N for which spareN is (want_present) or is not in the caller's
 * network namespace; -1 if none of 0..15. */
static int spare_index(bool want_present)
{
	for (int i = 0; i < 16; i++) {
		char name[IFNAMSIZ];
		snprintf(name, sizeof(name), BX_SPARE_NAME_FMT, i);
		if ((if_nametoindex(name) != 0) == want_present)
			return i;
	}
	return -1;
}

static int if_flags(int sock, const char *name, bool up, struct bx_err *err)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return bx_fail(err, errno, "cannot read the flags of %s", name);
	ifr.ifr_flags = (short)(up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP);
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return bx_fail(err, errno, "cannot bring %s %s", name, up ? "up" : "down");
	return 0;
}

struct tap_move {
	int net_nsfd, park_nsfd;
	char tap[IFNAMSIZ];   /* bx<id12>: the box's tap in the network's namespace */
};

/* In the child: the lowest spare from QEMU's namespace onto the network's
 * bridge, up; returns its N. */
static int join_child(void *arg, struct bx_err *e)
{
	struct tap_move *m = arg;
	if (setns(m->park_nsfd, CLONE_NEWNET) < 0)
		return bx_fail(e, errno, "cannot enter the box's VM's network namespace");
	int n = spare_index(true);
	char spare[IFNAMSIZ];
	snprintf(spare, sizeof(spare), BX_SPARE_NAME_FMT, n);
	if (n < 0)
		return bx_fail(e, ENOSPC, "the box has no spare network interface left");
	if (bx_link_move(spare, m->net_nsfd, m->tap, e) < 0)
		return -1;
	if (setns(m->net_nsfd, CLONE_NEWNET) < 0)
		return bx_fail(e, errno, "cannot enter the network's namespace");
	_cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq br;
	memset(&br, 0, sizeof(br));
	snprintf(br.ifr_name, sizeof(br.ifr_name), "br0");
	br.ifr_ifindex = (int)if_nametoindex(m->tap);
	if (sock < 0 || !br.ifr_ifindex || ioctl(sock, SIOCBRADDIF, &br) < 0)
		return bx_fail(e, errno, "cannot put tap %s on the network's bridge", m->tap);
	return if_flags(sock, m->tap, true, e) < 0 ? -1 : n;
}

/* In the child: off the bridge, down, and (park_nsfd >= 0) back to QEMU's
 * namespace as the lowest free spareN; returns N (0 without park_nsfd). */
static int leave_child(void *arg, struct bx_err *e)
{
	struct tap_move *m = arg;
	if (setns(m->net_nsfd, CLONE_NEWNET) < 0)
		return bx_fail(e, errno, "cannot enter the network's namespace");
	_cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return bx_fail(e, errno, "socket");
	struct ifreq br;
	memset(&br, 0, sizeof(br));
	snprintf(br.ifr_name, sizeof(br.ifr_name), "br0");
	br.ifr_ifindex = (int)if_nametoindex(m->tap);
	if (!br.ifr_ifindex)
		return bx_fail(e, ENODEV, "the box has no tap on the network");
	if (if_flags(sock, m->tap, false, e) < 0)
		return -1;
	if (ioctl(sock, SIOCBRDELIF, &br) < 0 && errno != EINVAL)
		return bx_fail(e, errno, "cannot take tap %s off the network's bridge", m->tap);
	if (m->park_nsfd < 0)
		return 0;
	/* the free names are QEMU's namespace's to tell: look there, then come back */
	_cleanup_close_ int here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (here < 0 || setns(m->park_nsfd, CLONE_NEWNET) < 0)
		return bx_fail(e, errno, "cannot enter the box's VM's network namespace");
	int n = spare_index(false);
	if (n < 0 || setns(here, CLONE_NEWNET) < 0)
		return bx_fail(e, errno, "no free spare name in the box's VM's network namespace");
	char spare[IFNAMSIZ];
	snprintf(spare, sizeof(spare), BX_SPARE_NAME_FMT, n);
	return bx_link_move(m->tap, m->park_nsfd, spare, e) < 0 ? -1 : n;
}

int bx_netd_tap_join(const struct bx_paths *p, const char *net_id, const char *box_id, int park_nsfd,
		     struct bx_err *err)
{
	struct tap_move m = {.park_nsfd = park_nsfd};
	snprintf(m.tap, sizeof(m.tap), "bx%.12s", box_id);
	if (bx_netd_ensure(p, net_id, err) < 0 || (m.net_nsfd = bx_netd_netns_open(p, net_id, err)) < 0)
		return -1;
	int rc = in_child(join_child, &m, err);
	close(m.net_nsfd);
	return rc;
}

int bx_netd_tap_detach(const struct bx_paths *p, const char *net_id, const char *box_id, int park_nsfd,
		       struct bx_err *err)
{
	struct tap_move m = {.park_nsfd = park_nsfd};
	snprintf(m.tap, sizeof(m.tap), "bx%.12s", box_id);
	if ((m.net_nsfd = bx_netd_netns_open(p, net_id, NULL)) < 0)
		return bx_fail(err, ENODEV, "the network has no daemon: the box has no tap on it");
	int rc = in_child(leave_child, &m, err);
	close(m.net_nsfd);
	return rc;
}
