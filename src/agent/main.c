/* boxvm-agent: PID 1 of a box. Boot order (see DESIGN.md):
 *   mount proc/sys/dev -> load virtio modules -> open the control port (bind
 *   early) -> read /boxvm/spec (a pool VM: wait for the host's CLAIM with
 *   it instead) -> cgroups (agent in /agent, /box limited)
 *   -> virtiofs root + switch root -> box mounts,
 *   hostname -> serve the mux (after accept_delay_ms) forever; main is spawned
 *   when the host's first TIME on the main channel has set the clock.
 * Any failure before the loop is fatal: print it on the console and power off
 * (the host reports the console tail). */
#include "agent.h"
#include "pure/netconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MODULES_DIR "/lib/boxvm-modules"
#define SPEC_PATH "/boxvm/spec"
#define NETCONF_PATH "/boxvm/net"
#define VPORT_TIMEOUT_MS 30000

/* fds 0-2 are the console when the kernel found /dev/console; make sure they
 * are open either way so no later open() lands on them. */
static void sane_stdio(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/console", O_RDWR | O_NOCTTY);
		if (n < 0)
			n = open("/dev/null", O_RDWR);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

static int read_spec(struct bx_spec *spec, struct bx_err *err)
{
	int fd = open(SPEC_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "open %s", SPEC_PATH);
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (off_t)BX_MSG_MAX) {
		close(fd);
		return bx_fail(err, 0, "%s: bad size", SPEC_PATH);
	}
	size_t len = (size_t)st.st_size, got = 0;
	uint8_t *buf = malloc(len);
	if (!buf) {
		close(fd);
		return bx_fail(err, ENOMEM, "read %s", SPEC_PATH);
	}
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	int rc = got == len ? bx_spec_decode(spec, buf, len, err) : bx_fail(err, errno, "read %s", SPEC_PATH);
	free(buf);
	if (rc < 0)
		return bx_wrap(err, "%s", SPEC_PATH);
	return 0;
}

/* The named networks of this boot (absent: none), read before the root
 * switch leaves the initramfs; text is NUL-terminated, *len its length. */
static int read_netconf_text(char *text, size_t size, size_t *len, struct bx_err *err)
{
	*len = 0;
	text[0] = '\0';
	int fd = open(NETCONF_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : bx_fail(err, errno, "open %s", NETCONF_PATH);
	ssize_t n = read(fd, text, size - 1);
	close(fd);
	if (n < 0 || n == (ssize_t)size - 1)
		return bx_fail(err, n < 0 ? errno : 0, "read %s", NETCONF_PATH);
	text[n] = '\0';
	*len = (size_t)n;
	return 0;
}

int agent_box_setup(struct agent *ag, struct bx_spec *spec, const char *net_text, size_t net_len, struct bx_err *err)
{
	static struct bx_netconf netconf;
	char text[4096];
	if (net_len >= sizeof(text))
		return bx_fail(err, 0, "network configuration of %zu bytes", net_len);
	memcpy(text, net_text, net_len);
	text[net_len] = '\0';
	memset(&netconf, 0, sizeof(netconf));
	if (bx_netconf_parse(text, &netconf, err) < 0)
		return -1;
	agent_net_spares(&netconf);
	if (netconf.dns[0] && spec->etc_resolv) { /* the network's responder answers for its boxes and beyond */
		char *r = bx_netconf_resolv(spec->etc_resolv, "10.0.2.3", netconf.dns);
		if (!r)
			return bx_fail(err, ENOMEM, "out of memory");
		free(spec->etc_resolv);
		spec->etc_resolv = r;
	}

	/* the box's cgroup, limits set, before the root switch hides the
	 * agent's own mount of the hierarchy; limits asked for are enforced or
	 * the box does not start, and without any a kernel lacking cgroup v2
	 * only costs the confinement */
	if (agent_cgroup_init(ag, spec, err) < 0) {
		if (spec->ncgroup)
			return -1;
		agent_err("%s: the box's processes are not confined to a cgroup", err->msg);
	}

	/* bind mounts and volumes: their shares are reached before the root switch */
	int *share_fds = calloc(spec->nmounts + 1, sizeof(int));
	if (!share_fds)
		return bx_fail(err, ENOMEM, "out of memory");
	int rc = agent_shares_attach(spec, ag->pool, share_fds, err) < 0 || agent_switch_root(spec->read_only, ag->pool, err) < 0 ||
			 agent_mount_box(spec->shm_size, err) < 0 || agent_cgroup_mount_box(ag, err) < 0 ||
			 agent_mounts_apply(spec, share_fds, err) < 0
		 ? -1
		 : 0;
	free(share_fds);
	if (rc < 0)
		return -1;
	if (spec->hostname && *spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		agent_err("sethostname %s: %s", spec->hostname, strerror(errno));
	agent_write_etc(spec);
	if (agent_net_up(spec, &netconf, err) < 0)
		return bx_wrap(err, "network");
	if (spec->read_only && agent_root_readonly(err) < 0)
		return -1;

	/* main is spawned once the host's first TIME has set the clock (it is
	 * the first message on the main channel, session.c): main never sees 1970 */
	ag->main = session_new(ag, SESS_MAIN);
	if (!ag->main)
		return bx_fail(err, ENOMEM, "out of memory");
#ifdef BOXVM_TEST_HOOKS
	for (int i = 0; ag->hostile == HOSTILE_ERROR_CTRL && i < 64; i++) /* out once the host attaches main */
		session_send_msg(ag->main, BX_M_ERROR, agent_hostile_text, strlen(agent_hostile_text));
#endif
	ag->serve_at_ms = agent_now_ms() + spec->accept_delay_ms;
	if (spec->accept_delay_ms)
		agent_info("accept delay: serving the port in %u ms", spec->accept_delay_ms);
	ag->box = *spec; /* kept for exec sessions (docker exec inherits env, user, workdir) */
	ag->pool_wait = false;
	return 0;
}

int main(void)
{
	struct bx_err err = {0};
	struct agent ag;
	memset(&ag, 0, sizeof(ag));
	ag.vport_fd = ag.sig_fd = ag.kmsg_fd = ag.cgroup_box_fd = -1;

	sane_stdio();
	if (getpid() != 1)
		fprintf(stderr, "boxvm-agent: warning: not PID 1 (the guest kernel starts this as /init)\n");
	if (agent_mount_early(&err) < 0)
		agent_fatal("%s", err.msg);
	ag.debug = agent_cmdline_has("boxvm.debug=1");
	agent_log_init(ag.debug);
	agent_info("starting (uptime %llu ms)", (unsigned long long)agent_now_ms());
	agent_require_timer();

	if (agent_load_modules(MODULES_DIR, &err) < 0)
		agent_fatal("%s", err.msg);
	if ((ag.sig_fd = agent_signals_init(&err)) < 0)
		agent_fatal("%s", err.msg);
	ag.kmsg_fd = agent_oom_open();

	/* bind early: the host's OPENs queue in the port until we serve */
	if ((ag.vport_fd = agent_open_vport(BX_AGENT_PORT_NAME, VPORT_TIMEOUT_MS, &err)) < 0)
		agent_fatal("%s", err.msg);
	bx_mux_init(&ag.mux, false, &agent_mux_ops, &ag);
#ifdef BOXVM_TEST_HOOKS
	ag.hostile = agent_hostile_mode();
	if (ag.hostile == HOSTILE_FLOOD)
		agent_hostile_flood(ag.vport_fd);
#endif

	/* a pool VM boots before its box exists: the box comes as a CLAIM on
	 * the port (session.c), which runs agent_box_setup then */
	ag.pool = agent_cmdline_has("boxvm.pool=1");
	if (ag.pool) {
		ag.pool_wait = true;
		agent_info("pool VM: waiting for a box (uptime %llu ms)", (unsigned long long)agent_now_ms());
		agent_loop(&ag);
	}
	struct bx_spec spec;
	bx_spec_init(&spec);
	char net_text[4096];
	size_t net_len;
	if (read_spec(&spec, &err) < 0 || read_netconf_text(net_text, sizeof(net_text), &net_len, &err) < 0 ||
	    agent_box_setup(&ag, &spec, net_text, net_len, &err) < 0)
		agent_fatal("%s", err.msg);
	agent_info("serving (uptime %llu ms)", (unsigned long long)agent_now_ms());
	agent_loop(&ag);
}
