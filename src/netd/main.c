/* boxvm-netd DATA RUN NETWORK_ID: started by bx_netd_ensure (src/store/netd.c)
 * with a sync pipe on fd 3 ("ok" once the bridge is up and the pid file
 * written, or "error: ..."). It makes the network's namespace, holds it for
 * as long as it runs (until `network rm`), and keeps an unprivileged DNS
 * responder running there with the current table (re-made whenever a
 * record in DATA/networks changes: inotify, no polling). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/boxid.h"
#include "../common/reply.h"
#include "../common/unixsock.h"
#include "../store/networks.h"
#include "../store/state.h"
#include "netd.h"

struct netd {
	struct bx_paths paths;
	const char *net_id;
	struct bx_dns_table table;
	struct bx_cidr subnet;
	uint32_t gateway;
	int internal;
	int dns_sock, upstream;
	int ctl_sock;            /* RUN/net-<id12>.sock: "reload" from whoever changed a record (bx_networks_changed) */
	pid_t worker;
	int worker_stop;         /* the write end of the worker's stop pipe: closing it asks the worker to go */
};

static void report(const char *fmt, const char *msg)
{
	dprintf(3, fmt, msg);
	close(3);
}

static int setup(struct netd *d, struct bx_err *err)
{
	if (netd_table_load(&d->paths, d->net_id, &d->table, &d->subnet, &d->gateway, &d->internal, err) < 0)
		return -1;
	/* opened in the host's namespace, before leaving it: the one way out,
	 * for DNS queries alone (none on an internal network) */
	d->upstream = d->internal ? -1 : netd_upstream_open();
	if (unshare(CLONE_NEWNET) < 0)
		return bx_fail(err, errno, "cannot make the network's namespace");
	if (netd_bridge_up(d->gateway, d->subnet.prefix, err) < 0)
		return -1;
	d->dns_sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53), .sin_addr.s_addr = htonl(d->gateway)};
	if (d->dns_sock < 0 || bind(d->dns_sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return bx_fail(err, errno, "cannot bind the DNS responder");
	char ctl[PATH_MAX];
	if (bx_path_join(ctl, sizeof(ctl), err, "%s/net-%.12s.sock", d->paths.run, d->net_id) < 0)
		return -1;
	if ((d->ctl_sock = bx_unix_listen(ctl, 16, SOCK_CLOEXEC | SOCK_NONBLOCK, err)) < 0)
		return -1;
	unsigned long long start;
	char pidf[PATH_MAX], text[64];
	if (bx_proc_start_time(getpid(), &start, err) < 0 ||
	    bx_path_join(pidf, sizeof(pidf), err, "%s/net-%.12s.pid", d->paths.run, d->net_id) < 0)
		return -1;
	snprintf(text, sizeof(text), "%d %llu\n", (int)getpid(), start);
	return bx_write_file_atomic(pidf, text, strlen(text), 0600, err);
}

static void worker_start(struct netd *d)
{
	int stop[2];
	if (pipe2(stop, O_CLOEXEC) < 0) {
		d->worker = 0; /* tried again after a moment, like a responder that died */
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(d->ctl_sock); /* the responder answers DNS alone */
		close(stop[1]);
		netd_dns_serve(d->dns_sock, d->upstream, stop[0], &d->table, &d->subnet);
	}
	close(stop[0]);
	if (pid < 0) {
		close(stop[1]);
		d->worker = 0;
		return;
	}
	d->worker = pid;
	d->worker_stop = stop[1];
}

/* The responder is asked to go rather than killed: it leaves between two
 * packets, so a query it has read is answered and the ones after it wait
 * in the socket for the next responder. Killed, it lost the query in hand:
 * a client whose A and AAAA queries share an ID (glibc makes IDs from the
 * clock) then takes the AAAA answer for the A one and never gets an
 * address. The kill stays, as a hang guard. */
static void worker_stop(struct netd *d)
{
	if (d->worker <= 0)
		return;
	close(d->worker_stop);
	int pidfd = (int)syscall(SYS_pidfd_open, d->worker, 0);
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	if (pidfd < 0 || poll(&pfd, 1, 2000) <= 0)
		kill(d->worker, SIGKILL);
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(d->worker, NULL, 0) < 0 && errno == EINTR)
		;
	d->worker = 0;
}

static void reload(struct netd *d);

/* "reload" on the control socket: answered once the new table is served,
 * so that the command that changed a record returns with DNS following it. */
static bool on_ctl(struct netd *d)
{
	int fd = accept4(d->ctl_sock, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return false;
	char line[32];
	bx_reply_read(fd, line, sizeof(line), 2000); /* root's clients only (0600): a hang guard */
	bool reloaded = !strcmp(line, "reload");
	if (reloaded) {
		reload(d);
		if (write(fd, "ok\n", 3) < 0) {
			/* the client went away: it asked for nothing else */
		}
	}
	close(fd);
	return reloaded;
}

/* The records changed: a new table, a new responder (the old one's few
 * pending upstream queries are dropped; their clients ask again). */
static void reload(struct netd *d)
{
	struct bx_dns_table t;
	struct bx_cidr subnet;
	uint32_t gw;
	int internal;
	if (netd_table_load(&d->paths, d->net_id, &t, &subnet, &gw, &internal, NULL) < 0)
		return; /* the record went (network rm stops us next) or is being replaced */
	worker_stop(d);
	netd_table_free(&d->table);
	d->table = t;
	worker_start(d);
}

int main(int argc, char **argv)
{
	struct netd d;
	struct bx_err err = {0};
	memset(&d, 0, sizeof(d));
	if (argc != 4 || !bx_boxid_valid(argv[3])) {
		fprintf(stderr, "usage: boxvm-netd DATA RUN NETWORK_ID (started by boxvm)\n");
		return 2;
	}
	snprintf(d.paths.data, sizeof(d.paths.data), "%s", argv[1]);
	snprintf(d.paths.run, sizeof(d.paths.run), "%s", argv[2]);
	d.net_id = argv[3];
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	char dir[PATH_MAX];
	int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (sfd < 0 || ino < 0 || bx_networks_dir(&d.paths, dir, sizeof(dir), &err) < 0 ||
	    inotify_add_watch(ino, dir, IN_MOVED_TO | IN_DELETE) < 0 || setup(&d, &err) < 0) {
		report("error: %s\n", err.msg[0] ? err.msg : strerror(errno));
		return 1;
	}
	report("%s\n", "ok");
	worker_start(&d);
	struct pollfd pfd[3] = {{.fd = sfd, .events = POLLIN}, {.fd = ino, .events = POLLIN},
				{.fd = d.ctl_sock, .events = POLLIN}};
	for (;;) {
		/* a responder that died is replaced after a moment (no busy loop if it keeps dying) */
		int ready = poll(pfd, 3, d.worker ? -1 : 200);
		if (ready < 0 && errno != EINTR)
			return 1;
		if (ready == 0 && !d.worker) {
			worker_start(&d);
			continue;
		}
		/* one reload for whatever is pending: the changes inotify reports and
		 * a caller's "reload" are the same records, and each reload replaces
		 * the responder (a query it holds at that moment is lost) */
		bool changed = pfd[1].revents & POLLIN;
		if (changed) {
			char ev[4096];
			while (read(ino, ev, sizeof(ev)) > 0)
				;
		}
		bool reloaded = (pfd[2].revents & POLLIN) && on_ctl(&d); /* reloads, then answers */
		if (changed && !reloaded)
			reload(&d);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD) {
				worker_stop(&d);
				char ctl[PATH_MAX];
				if (bx_path_join(ctl, sizeof(ctl), NULL, "%s/net-%.12s.sock", d.paths.run, d.net_id) == 0)
					unlink(ctl);
				return 0; /* the namespace, the bridge and every tap in it go with us */
			}
			int st;
			pid_t p;
			while ((p = waitpid(-1, &st, WNOHANG)) > 0)
				if (p == d.worker) {
					close(d.worker_stop);
					d.worker = 0;
				}
		}
	}
}
