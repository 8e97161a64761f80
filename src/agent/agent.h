/* The guest agent: PID 1 of every box. One single-threaded poll loop owns all
 * state below (struct agent); nothing else is global and mutable.
 * Files: main.c (boot order), log.c, mounts.c, modules.c, vport.c (finding the
 * control port), cgroup.c (the box's cgroup), spawn.c (fork/exec), session.c (services on the mux),
 * reaper.c (PID 1 reaping), loop.c (the poll loop), power.c, clock.c (the
 * wall clock from the host), podnet.c (a pod's port following). */
#ifndef BOXVM_AGENT_H
#define BOXVM_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/bytes.h"
#include "../common/err.h"
#include "../common/readtext.h" /* bx_read_text: the agent reads /proc with it */
#include "../proto/msg.h"
#include "../proto/mux.h"
#include "../proto/spec.h"
#include "../proto/stats.h"

#define BX_AGENT_PORT_NAME "boxvm.ctl"
/* Stop reading process output while this much is queued for the port. */
#define BX_AGENT_OUT_HIGH (1024u * 1024u)

enum sess_kind { SESS_MAIN, SESS_EXEC, SESS_PTY };
#ifdef BOXVM_TEST_HOOKS
enum agent_hostile { HOSTILE_NONE, HOSTILE_FLOOD, HOSTILE_ERROR_CTRL, HOSTILE_MUTE_MAIN, HOSTILE_PODNET }; /* hostile.c */
#endif

struct agent;

/* One process (main, exec or pty) and the channel that carries it. */
struct session {
	struct agent *ag;
	struct session *next;
	enum sess_kind kind;
	uint32_t chan_id;  /* 0: no channel attached (main before attach, or host closed) */
	bool closing;      /* we sent CLOSE after EXIT */
	/* incoming message parser: STDIN payload streams straight into ibuf (so a
	 * STDIN message may exceed the credit window); other messages collect
	 * in `msg` and are handled whole */
	uint8_t hdr[BX_MSG_HDR_SIZE];
	size_t hdr_have;
	uint8_t cur_kind;
	uint32_t cur_left;  /* payload bytes of the current message still to come */
	uint8_t *msg;
	size_t msg_len;
	/* encoded messages for the channel not yet accepted by the mux (credit) */
	struct bx_bytes out;

	pid_t pid;         /* > 0 while the process is registered and not reaped */
	bool started;      /* a process was spawned (even if exec then failed) */
	bool exited;
	int code;
	bool exit_queued;
	bool ping;         /* heartbeat or stats channel: no process; closed once its reply is out */
	bool pty;          /* the process is on a pty (fd_out: master, fd_in: its dup) */
	bool build_step;   /* BX_T_BUILD_STEP: what it leaves running dies when it exits */

	int fd_out, fd_err; /* pipes (pty: fd_out is the master); -1 at EOF */
	int fd_in;          /* stdin pipe, or a dup of the pty master; -1 closed */
	uint8_t *ibuf;      /* stdin bytes not yet written to the process */
	size_t ilen, ioff;
	bool stdin_eof;     /* host sent STDIN_EOF */
	uint64_t deadline_ms; /* timeout_ms: SIGKILL at this monotonic time (0 none) */
};

struct agent {
	bool debug;
	int vport_fd;
	int sig_fd;
	int kmsg_fd;             /* /dev/kmsg, read for the OOM killer's reports (oom.c); -1: none */
	int cgroup_box_fd;       /* the guest's cgroup /box (cgroup.c), a directory; -1: no cgroups */
	bool host_connected;
	uint64_t vport_retry_ms; /* host not connected: poll the port again at this time */
	struct bx_mux mux;
	struct session *sessions; /* all sessions, main included */
	struct session *main;
	uint64_t serve_at_ms;     /* accept_delay_ms: don't read the port before this */
	bool main_acked;          /* EXIT_ACK received (or channel closed after EXIT) */
	uint64_t poweroff_by_ms;  /* main acked: the power goes off by then at the latest */
	struct bx_spec box;       /* main's spec (spawned on the first TIME); exec sessions inherit its env, user, cwd */
	bool pool;                /* booted for the warm pool ("boxvm.pool=1"): the box's root is the share's "root" */
	bool pool_wait;           /* a pool VM before its CLAIM: no box yet, only heartbeats (session.c) */
	struct agent_podnet *podnet; /* a pod's port following (podnet.c), NULL until the host asks */
#ifdef BOXVM_TEST_HOOKS
	enum agent_hostile hostile;
#endif
};

/* log.c: console output. Errors always; info only with boxvm.debug=1. */
void agent_log_init(bool debug);
void agent_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void agent_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t agent_now_ms(void);
_Noreturn void agent_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* leftovers.c: kill every process but the agent, the box's main and the
 * kernel's threads, and wait (bounded) until none is left but zombies */
void agent_kill_leftovers(const struct agent *ag);

/* main.c: everything between the spec and serving the box (cgroup, shares,
 * root switch, mounts, hostname, /etc, network, main's session); a cold
 * boot runs it with /boxvm/spec and /boxvm/net, a pool VM on its CLAIM.
 * spec is kept in ag->box (taken over: not to be freed by the caller). */
int agent_box_setup(struct agent *ag, struct bx_spec *spec, const char *net_text, size_t net_len, struct bx_err *err);

/* claim.c: BX_M_CLAIM's payload set up as the box (once per VM) */
int agent_claim(struct agent *ag, const uint8_t *payload, size_t len, struct bx_err *err);

/* power.c */
_Noreturn void agent_poweroff(void);

/* mounts.c */
int agent_mount_early(struct bx_err *err);
/* pool: the rootfs share's "root" subdirectory is the box's root (the host
 * mounted the box's tree there when it claimed the VM) */
int agent_switch_root(bool read_only, bool pool, struct bx_err *err);
/* the box's /proc, /sys, /dev (shm_size: /dev/shm's, 0: Docker's 64m) */
int agent_mount_box(uint64_t shm_size, struct bx_err *err);
/* the kernel command line holds this whole word (e.g. "boxvm.debug=1") */
bool agent_cmdline_has(const char *word);
int agent_mkdir_p(const char *path, mode_t mode);

/* cgroup.c: the agent in /agent, the box's processes in /box (limits from
 * spec->cgroup) and a cgroup namespace rooted there; /box shown read-only
 * at the box's /sys/fs/cgroup. agent_cgroup_set writes one of /box's limit
 * files (pids.max, memory.max, memory.low, memory.high, cpu.weight, cpu.max,
 * cpuset.cpus; any other name is refused): the spec's limits at boot and
 * live updates alike. */
int agent_cgroup_init(struct agent *ag, const struct bx_spec *spec, struct bx_err *err);
int agent_cgroup_mount_box(const struct agent *ag, struct bx_err *err);
int agent_cgroup_set(const struct agent *ag, const char *file, const char *value, struct bx_err *err);
/* the spawn's fork: the child born in /box where the kernel allows it
 * (*in_box); then, in the child, before its setup, agent_cgroup_enter_box */
pid_t agent_cgroup_fork(const struct agent *ag, bool *in_box);
int agent_cgroup_enter_box(const struct agent *ag, bool in_box, struct bx_err *err);
/* a number read from one of /box's files (false: "max", absent, unreadable) */
bool agent_cgroup_read_u64(const struct agent *ag, const char *file, uint64_t *out);

/* volumes.c: bind mounts, volumes and tmpfs (spec->mounts). The shares are
 * mounted under /boxvm/shares in the initramfs before the root switch (out of
 * the box's sight) and each mount keeps an O_PATH fd (fds[i], -1 for tmpfs)
 * that is bind-mounted onto its target after the switch; :ro is enforced by
 * a read-only bind (writes fail with EROFS). */
int agent_shares_attach(const struct bx_spec *spec, bool pool, int *fds, struct bx_err *err);
int agent_mounts_apply(const struct bx_spec *spec, int *fds, struct bx_err *err);
/* --read-only: remount the box's root read-only (after everything is written) */
int agent_root_readonly(struct bx_err *err);

/* etc.c: /etc/hostname, /etc/hosts, /etc/resolv.conf from the spec */
void agent_write_etc(const struct bx_spec *spec);
/* One of those files, written in place (a symlink there is replaced); failures are logged */
void agent_etc_write(const char *path, const char *text);

/* oom.c: the guest kernel's log, from now on (-1 if it cannot be read), and
 * what arrived on it: each OOM kill becomes a BX_M_OOM on the main channel */
int agent_oom_open(void);
void agent_oom_read(struct agent *ag);

/* net.c: loopback up; with spec->ipv4 the NIC gets its address, MTU and default route */
struct bx_netconf;
int agent_net_up(const struct bx_spec *spec, const struct bx_netconf *nc, struct bx_err *err);
/* The spare NICs ("boxvm.spares=N" on the kernel command line): their MACs
 * into nc, so that agent_net_up leaves them down and parks them */
void agent_net_spares(struct bx_netconf *nc);
/* netpark.c: a spare NIC out of the box's sight (into the agent's own
 * network namespace), and back by its MAC (no-op if it is not parked) */
int agent_net_park(const char *nic, struct bx_err *err);
int agent_net_unpark(const char *mac, struct bx_err *err);
/* A running box joins or leaves a named network (BX_M_NETCFG: lines of
 * bx_netcmd, applied in order; stops at the first that fails). */
int agent_net_change(const char *text, size_t len, struct bx_err *err);

/* limits.c: a live limit of the box's guest cgroup (BX_M_LIMIT:
 * "FILE=VALUE", pure/limit.h's whitelist); "the box has no cgroup" when
 * there is none. */
int agent_limit_set(const struct agent *ag, const char *text, size_t len, struct bx_err *err);

/* modules.c */
int agent_load_modules(const char *dir, struct bx_err *err);

/* vport.c: wait for the named port and open it (non-blocking). */
int agent_open_vport(const char *name, unsigned timeout_ms, struct bx_err *err);

/* privs.c: in the spawn child, around its change of user: the bounding set
 * (and PR_SET_KEEPCAPS) before, the other capability sets and no_new_privs after. */
int agent_privs_before_user(const struct bx_spec *spec, struct bx_err *err);
int agent_privs_after_user(const struct bx_spec *spec, uid_t uid, struct bx_err *err);
/* Load spec's seccomp filter into this process (none: nothing). Without
 * no_new_privs agent_privs_before_user does it (CAP_SYS_ADMIN still held);
 * with it, spawn.c does it last, right before execve, as runc does. */
int agent_seccomp_install(const struct bx_spec *spec, struct bx_err *err);

/* userdb.c: the box's /etc/passwd or /etc/group as PID 1 keeps it between
 * spawns (unchanged by stat); NULL: the spawn child reads it with
 * agent_slurp (a whole file, "" if missing; NULL only without memory) */
const char *agent_userdb_text(const char *path);
char *agent_slurp(const char *path);

/* spawn.c */
struct spawn_result {
	pid_t pid;
	int fd_in, fd_out, fd_err; /* parent ends (pty: master in fd_out, dup in fd_in, fd_err -1) */
	struct bx_err err;         /* filled when exec failed in the child (pid is then a zombie to reap) */
	bool failed;
};
/* Fork and exec spec. Returns 0 with res filled (res->failed: the child
 * reported an exec failure and is exiting with res->err.exit_code), or -1 if
 * nothing could be started (err). The pid is registered in `s` at once. */
int agent_spawn(struct session *s, const struct bx_spec *spec, bool pty, struct spawn_result *res,
		struct bx_err *err);

/* session.c */
struct session *session_new(struct agent *ag, enum sess_kind kind);
void session_start(struct session *s, const struct bx_spec *spec);
void session_exited(struct session *s, int status);
/* SIGNAL from the host: main's process only (Docker's kill/stop reach PID 1);
 * an exec's process group (the client's proxied signals) */
void session_signal(struct session *s, int sig);
/* cleanup (timeout, host gone): the process's whole group */
void session_kill(struct session *s, int sig);
/* Work that can be done without waiting (flush messages, queue EXIT, close). */
void session_progress(struct session *s);
void session_maybe_free(struct session *s);
void session_send_msg(struct session *s, uint8_t kind, const void *payload, size_t len);
/* Loop helpers: which events each fd wants, and handlers. */
bool session_wants_output(const struct session *s);
void session_read_output(struct session *s, int fd);
void session_write_stdin(struct session *s);
extern const struct bx_mux_ops agent_mux_ops;

/* clock.c: power off (in the words of proto/guest_fatal.h) when the guest
 * kernel has no working timer */
void agent_require_timer(void);
/* clock.c: set the wall clock from a BX_M_TIME payload (validated here) */
void agent_clock_sync(const uint8_t *payload, size_t len);

/* stats.c: the guest's /proc numbers for BX_M_STATS, the memory and tasks
 * of the box's cgroup where it has one */
int agent_stats_collect(const struct agent *ag, struct bx_guest_stats *st, struct bx_err *err);

/* reaper.c */
int agent_signals_init(struct bx_err *err);
void agent_reap(struct agent *ag);

/* hostile.c: the hostile-guest test mode (test build only, see there) */
#ifdef BOXVM_TEST_HOOKS
enum agent_hostile agent_hostile_mode(void);
_Noreturn void agent_hostile_flood(int vport_fd);
extern const char agent_hostile_text[];
#endif

/* podnet.c: a pod's port following (src/proto/podnet.h). Channels to
 * BX_PORT_PODNET and BX_PORT_TCP_BASE + P are its (session.c routes their
 * callbacks here); the loop polls its sockets (at most agent_podnet_nfds) */
struct pollfd;
bool agent_podnet_port(uint32_t port);
int agent_podnet_on_open(struct agent *ag, struct bx_chan *ch);
void agent_podnet_on_open_result(struct agent *ag, struct bx_chan *ch, int errnum);
void agent_podnet_on_data(struct agent *ag, struct bx_chan *ch, const uint8_t *buf, size_t len);
void agent_podnet_on_eof(struct agent *ag, struct bx_chan *ch);
void agent_podnet_on_close(struct agent *ag, struct bx_chan *ch);
size_t agent_podnet_nfds(const struct agent *ag);
/* its scan when due (*wake: the next), then its fds into p */
size_t agent_podnet_poll_fill(struct agent *ag, struct pollfd *p, uint64_t now, uint64_t *wake);
void agent_podnet_poll_handle(struct agent *ag, const struct pollfd *p, size_t n);

/* loop.c */
_Noreturn void agent_loop(struct agent *ag);

#endif
