/* Helper processes beside QEMU, in one table: passt (the box's user-mode
 * network), virtiofsd for the rootfs and one per bind mount / volume share
 * (virtiofsd.c confines each to what it serves). Each runs in its own
 * process group and dies with the shim; shim_stop_aux ends them on every
 * exit path (cleanup.c). The shares' are spawned and then awaited together
 * with passt, so passt's ~1 s start overlaps virtiofsd's. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/paths.h"
#include "shim.h"

#define AUX_START_TIMEOUT_MS 10000
/* QEMU closes its helpers' connections as it exits, and they end cleanly on
 * that: QEMU's own exit follows within this long */
#define QEMU_EXIT_GRACE_MS 1000

struct shim_aux *shim_aux_add(struct shim *s, pid_t pid, const char *what, const char *sock)
{
	/* capacity: passt + the rootfs's virtiofsd + one per share, and the
	 * table is emptied before a restart's boot (main.c, reset_run) */
	if (s->naux >= (int)(sizeof(s->aux) / sizeof(s->aux[0]))) {
		shim_log(s, true, "internal: too many helper processes; killing %s", what);
		shim_kill_child(pid, SIGKILL);
		return NULL;
	}
	struct shim_aux *a = &s->aux[s->naux++];
	a->pid = pid;
	a->exited = false;
	a->rootfs = false;
	snprintf(a->what, sizeof(a->what), "%s", what);
	snprintf(a->sock, sizeof(a->sock), "%s", sock);
	return a;
}

/* A helper that ended cleanly was most likely let go by QEMU (the guest
 * powered off, or QEMU failed): then the VM's exit is the story, not the
 * helper's, which the order of the two reaps would otherwise make it. QEMU
 * is our child and not reaped yet, so its pid is still its own. */
static bool qemu_exiting(const struct shim *s)
{
	if (s->qemu_exited)
		return true;
	if (s->qemu_pid <= 0)
		return false;
	int fd = (int)syscall(SYS_pidfd_open, s->qemu_pid, 0);
	if (fd < 0)
		return false;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, QEMU_EXIT_GRACE_MS);
	while (r < 0 && errno == EINTR);
	close(fd);
	return r > 0;
}

int shim_aux_reaped(struct shim *s, pid_t pid, int status)
{
	for (int i = 0; i < s->naux; i++) {
		if (s->aux[i].pid != pid)
			continue;
		s->aux[i].exited = true;
		shim_log(s, !shim_ending(s), "%s exited (status 0x%x)", s->aux[i].what, status);
		if (!shim_ending(s) && WIFEXITED(status) && WEXITSTATUS(status) == 0 && qemu_exiting(s))
			return 1; /* QEMU's reap (VM_EXITED) ends the box, saying why */
		/* the box cannot go on without it: it ends (unless it is ending
		 * already), rather than leave QEMU waiting on it */
		char why[400], last[300];
		if (s->aux[i].rootfs) /* the guest's root filesystem is gone: QEMU would hang on it */
			snprintf(why, sizeof(why), "its root filesystem's virtiofsd died");
		else if (!strcmp(s->aux[i].what, "passt") && shim_log_tail(s->spec.box_dir, "passt.log", 1, last, sizeof(last)) == 0)
			snprintf(why, sizeof(why), "its helper passt died (its last words: %s)", last); /* why: passt says */
		else
			snprintf(why, sizeof(why), "its helper %s died", s->aux[i].what);
		shim_event(s, SHIM_EV_HELPER_EXITED, &(struct shim_ev_arg){.msg = why});
		return 1;
	}
	return 0;
}

void shim_stop_aux(struct shim *s)
{
	for (int i = 0; i < s->naux; i++)
		if (s->aux[i].pid > 0 && !s->aux[i].exited)
			shim_kill_child(s->aux[i].pid, SIGTERM);
	long long end = bx_mono_ms() + 1000;
	for (;;) {
		shim_reap(s);
		bool left = false;
		for (int i = 0; i < s->naux; i++)
			left |= s->aux[i].pid > 0 && !s->aux[i].exited;
		if (!left || bx_mono_ms() >= end)
			break;
		usleep(10 * 1000);
	}
	for (int i = 0; i < s->naux; i++)
		shim_kill_child(s->aux[i].pid, SIGKILL); /* the group: virtiofsd's sandbox child too */
	/* a group is gone only once its leader is reaped too: this also waits for the exits */
	end = bx_mono_ms() + 5000;
	for (int i = 0; i < s->naux; i++)
		shim_wait_group_gone(s, s->aux[i].pid, end);
	/* keep only what would not die (logged by the reaper if it ever does); a
	 * restart by the policy (lifecycle.c) boots with a fresh table */
	int kept = 0;
	for (int i = 0; i < s->naux; i++)
		if (!s->aux[i].exited)
			s->aux[kept++] = s->aux[i];
	s->naux = kept;
}

/* Wait until every socket exists, failing at once if its process exited. */
int shim_aux_wait(struct shim *s, struct bx_err *err)
{
	long long end = bx_mono_ms() + AUX_START_TIMEOUT_MS;
	for (int i = 0; i < s->naux;) {
		struct stat st;
		if (!s->aux[i].sock[0] || (stat(s->aux[i].sock, &st) == 0 && S_ISSOCK(st.st_mode))) {
			i++;
			continue;
		}
		shim_reap(s);
		const struct shim_aux *a = &s->aux[i];
		if (a->exited)
			return bx_fail(err, 0, "%s exited at start (see %s/shim.log)", a->what, s->spec.box_dir);
		if (bx_mono_ms() > end)
			return bx_fail(err, 0, "%s did not create its socket within %d s", a->what,
				       AUX_START_TIMEOUT_MS / 1000);
		usleep(5 * 1000);
	}
	return 0;
}

int shim_start_virtiofsd(struct shim *s, struct bx_err *err)
{
	char sock[PATH_MAX];
	if (bx_path_join(sock, sizeof(sock), err, "%s/vfs.sock", s->spec.run_dir) < 0)
		return -1;
	pid_t pid = shim_spawn_rootfs_virtiofsd(s, sock, err);
	if (pid < 0)
		return bx_wrap(err, "cannot start virtiofsd");
	struct shim_aux *a = shim_aux_add(s, pid, "virtiofsd", sock);
	if (!a)
		return bx_fail(err, 0, "cannot start virtiofsd: too many helper processes");
	a->rootfs = true;
	long long end = bx_mono_ms() + AUX_START_TIMEOUT_MS;
	for (;;) {
		struct stat st;
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		shim_reap(s);
		if (a->exited) {
			/* quote its last words: the box dir (and its shim.log) may be removed with --rm */
			char log[PATH_MAX], last[512] = "";
			if (bx_path_join(log, sizeof(log), NULL, "%s/shim.log", s->spec.box_dir) == 0)
				shim_last_line(log, last, sizeof(last));
			return bx_fail(err, 0, "virtiofsd exited at start%s%s", last[0] ? ": " : "", last);
		}
		if (bx_mono_ms() > end)
			return bx_fail(err, 0, "virtiofsd did not create its socket within %d s", AUX_START_TIMEOUT_MS / 1000);
		usleep(5 * 1000);
	}
}

int shim_start_shares(struct shim *s, struct bx_err *err)
{
	for (int i = 0; i < s->spec.nshares; i++) {
		const struct bx_share *sh = &s->spec.shares[i];
		char sock[PATH_MAX], what[32];
		if (bx_path_join(sock, sizeof(sock), err, "%s/vfs-%s.sock", s->spec.run_dir, sh->tag) < 0)
			return -1;
		pid_t pid = shim_spawn_share_virtiofsd(s, sh, sock, err);
		if (pid < 0)
			return bx_wrap(err, "cannot start virtiofsd for %s", sh->source);
		snprintf(what, sizeof(what), "virtiofsd %s", sh->tag);
		shim_aux_add(s, pid, what, sock);
	}
	return 0;
}

static int passt_port_arg(const struct bx_port *p, char *buf, size_t size)
{
	/* passt: [ADDR/]HOSTPORT:GUESTPORT */
	return snprintf(buf, size, "%s%s%d:%d", p->host_ip, p->host_ip[0] ? "/" : "", p->host_port, p->guest_port) >=
			       (int)size ? -1 : 0;
}

int shim_spawn_passt(struct shim *s, int fd, struct bx_err *err)
{
	char logf[PATH_MAX], fdarg[16];
	if (bx_path_join(logf, sizeof(logf), err, "%s/passt.log", s->spec.box_dir) < 0) {
		close(fd);
		return -1;
	}
	/* passt drops every capability but a few before it opens its log, so
	 * it cannot reach a box dir below a directory root may not search
	 * without CAP_DAC_OVERRIDE (containerd's 0600 /run/containerd, under
	 * boxvm-runtime): it reopens ours through /proc instead. */
	_cleanup_close_ int log_fd = open(logf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (log_fd < 0) {
		close(fd);
		return bx_fail(err, errno, "cannot open %s", logf);
	}
	snprintf(logf, sizeof(logf), "/proc/self/fd/%d", log_fd);
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	char *argv[20 + 2 * BX_MAX_PORTS];
	char portargs[BX_MAX_PORTS][80];
	int n = 0;
	argv[n++] = "passt";
	argv[n++] = "--foreground";
	argv[n++] = "--quiet";
	argv[n++] = "--fd";
	argv[n++] = fdarg;
	argv[n++] = "--log-file";
	argv[n++] = logf;
	/* the guest's static configuration (the agent sets the same values) */
	argv[n++] = "--address=" BX_NET_GUEST_ADDR;
	argv[n++] = "--netmask=24";
	argv[n++] = "--gateway=" BX_NET_GATEWAY;
	argv[n++] = "--dns-forward=" BX_NET_DNS;
	for (int i = 0; i < s->spec.nports; i++) {
		const struct bx_port *p = &s->spec.ports[i];
		if (passt_port_arg(p, portargs[i], sizeof(portargs[i])) < 0) {
			close(fd);
			return bx_fail(err, 0, "port spec too long");
		}
		argv[n++] = !strcmp(p->proto, "udp") ? "-u" : "-t";
		argv[n++] = portargs[i];
	}
	char all_udp[16];
	struct rlimit saved_nofile;
	if (s->spec.all_ports) { /* a pod's namespace: every UDP port not bound there goes to the box */
		if (shim_passt_all_prepare(s, all_udp, sizeof(all_udp), &saved_nofile, err) < 0) {
			close(fd);
			return -1;
		}
		/* TCP follows the box's listeners instead (podnet.c): passt's
		 * "every port" would hold each port of the pod for whichever box
		 * started first, and the pod's loopback with it */
		if (all_udp[0]) {
			argv[n++] = "-u";
			argv[n++] = all_udp;
		}
	}
	argv[n] = NULL;
	const char *alt = getenv("BOXVM_PASST"); /* another passt binary */
	if (alt && *alt)
		argv[0] = (char *)alt;
	fcntl(fd, F_SETFD, 0); /* passt's end and its log cross exec; nothing else is forked meanwhile */
	fcntl(log_fd, F_SETFD, 0);
	pid_t pid = shim_spawn(s, argv, s->log_fd, err);
	close(fd);
	if (s->spec.all_ports)
		setrlimit(RLIMIT_NOFILE, &saved_nofile); /* QEMU and the rest keep the limit they were given */
	if (pid < 0)
		return bx_wrap(err, "cannot start passt");
	shim_aux_add(s, pid, "passt", "");
	return 0;
}

int shim_start_passt(struct shim *s, struct bx_err *err)
{
	if (!s->spec.network)
		return 0;
	/* passt and QEMU talk over a socketpair handed to both (passt --fd,
	 * QEMU addr.type=fd): passt drops root for "nobody" at start and could
	 * not create a socket in the private runtime dir, and no socket file or
	 * readiness wait is needed this way. */
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return bx_fail(err, errno, "socketpair for passt");
	s->spec.net_fd = sv[1]; /* QEMU's end, passed on by shim_start_qemu */
	if (s->pooled) {
		/* a pool VM's passt starts at the claim, with the box's ports: its
		 * guest sends nothing before (the network is set up then) */
		s->pool_passt_fd = sv[0];
		return 0;
	}
	if (shim_spawn_passt(s, sv[0], err) < 0) {
		close(sv[1]);
		s->spec.net_fd = 0;
		return -1;
	}
	return 0;
}
