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
#include "../common/reply.h"
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
	unlink(lockp);
	if (lock >= 0)
		close(lock);
}

int bx_netd_tap_detach(const struct bx_paths *p, const char *net_id, const char *box_id)
{
	int nsfd = bx_netd_netns_open(p, net_id, NULL);
	if (nsfd < 0)
		return 0; /* no daemon: no bridge, no tap */
	pid_t pid = fork();
	if (pid == 0) {
		/* in the network's namespace: the box's tap leaves the bridge and goes down */
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "bx%.12s", box_id);
		int sock = setns(nsfd, CLONE_NEWNET) == 0 ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
		if (sock < 0)
			_exit(1);
		int index = (int)if_nametoindex(ifr.ifr_name);
		if (!index)
			_exit(2); /* the box is not running there */
		if (ioctl(sock, SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags &= ~IFF_UP;
			ioctl(sock, SIOCSIFFLAGS, &ifr);
		}
		struct ifreq br;
		memset(&br, 0, sizeof(br));
		snprintf(br.ifr_name, sizeof(br.ifr_name), "br0");
		br.ifr_ifindex = index;
		_exit(ioctl(sock, SIOCBRDELIF, &br) == 0 ? 0 : 1);
	}
	close(nsfd);
	int st = 0;
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 1 : 0;
}
