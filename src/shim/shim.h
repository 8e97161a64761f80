/* boxvm-shim: the per-box supervisor. See README for the CLI-facing contract.
 * All mutable state lives in struct shim, owned by main(); the box's
 * lifecycle is its state (fsm.h), moved only by shim_event. */
#ifndef BOXVM_SHIM_H
#define BOXVM_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/bytes.h"
#include "../common/capfile.h"
#include "../common/clock.h"
#include "../common/err.h"
#include "../proto/msg.h"
#include "../proto/mux.h"
#include "../proto/podnet_io.h"
#include "../store/boxconfig.h"
#include "../store/logfile.h"
#include "../vm/cgroup.h"
#include "../vm/uidpool.h"
#include "../vm/vmspec.h"
#include "fsm.h"

struct json_t; /* jansson's */

/* how a client fd is driven without changing the client's own file flags */
enum io_kind { IO_NONE, IO_NONBLOCK, IO_SOCKET, IO_PLAIN };
struct io {
	int fd;
	enum io_kind kind;
};

/* a stream from QEMU (the guest's console, QEMU's stderr) that the shim
 * always drains into a capped file (console.c) */
struct shim_capture {
	int fd;                  /* -1: none (no VM, or EOF) */
	struct bx_capfile file;
};

/* the box's life beyond one boot (lifecycle.c) */
struct shim_lc {
	bool have_state;           /* the box has a state record (made by the boxvm CLI) */
	struct bx_box_config cfg;  /* restart policy, log options */
	struct bx_log_writer log;  /* BOXDIR/json.log */
	bool log_open;
	int restart_count;         /* restarts by the policy since the last start */
	int consecutive;           /* quick failures in a row: the backoff exponent */
	long long run_t0_ms;       /* when the current boot began */
	int remove_op_fd;          /* --rm: the store operation of the removal (bx_store_op_begin) */
	char anon_volumes[BX_MAX_SHARES][BX_VOLUME_NAME_MAX]; /* --rm: removed with the box (Docker) */
	int nanon_volumes;
	unsigned long long log_dropped; /* output writes lost to a full disk since the last that worked */
	bool oom_recorded;         /* State.OOMKilled written since the last start */
	long long oom_event_ms;    /* the last "oom" event (they are at most one a second) */
	unsigned long long oom_unreported; /* OOM kills within that second, not evented */
	unsigned long long oom_kills; /* since the shim began: box_dir/oom_kills (shim_lc_oom_file) */
	long long oom_file_ms;     /* its last rewrite (at most one a second) */
	bool oom_file_behind;      /* a kill came since then */
};

struct shim {
	enum shim_state state;       /* the lifecycle (fsm.h): changed by shim_event alone */
	struct bx_vmspec spec;
	bool debug;
	int log_fd;
	int sig_fd;
	int listen_fd;
	long long t0_ms;

	/* children: QEMU, and its helpers in aux[] */
	pid_t qemu_pid;
	bool qemu_exited;
	int qemu_status;
	/* QEMU's confinement (confine.c) */
	struct bx_uid_lease qemu_uid; /* lock_fd -1: QEMU keeps the shim's (unprivileged) user */
	struct bx_cgroup qemu_cg;     /* the VM's: QEMU, passt, virtiofsd (ndirs 0: none) */
	bool cg_warned;
	struct shim_capture console;  /* BOXDIR/console.log */
	struct shim_capture qerr;     /* BOXDIR/qemu.log */
	/* QEMU's helpers, one table (aux.c): passt, the rootfs's virtiofsd and
	 * each share's; killed after QEMU on every path */
	struct shim_aux {
		pid_t pid;
		bool exited;
		bool rootfs;    /* the rootfs's virtiofsd (its death is told as such) */
		char what[32];  /* "passt", "virtiofsd", "virtiofsd m0" */
		char sock[PATH_MAX]; /* the socket it creates once ready ("": none) */
	} aux[BX_MAX_SHARES + 2];
	int naux;

	/* host end of the mux */
	int ctl_fd;
	bool ctl_eof;
	struct bx_mux mux;
	uint32_t main_id, hb_id;     /* 0 = none */
	long long main_retry_ms;     /* reopen main at this time (0: not pending) */
	long long hb_next_ms;        /* next heartbeat attempt (0: one outstanding or done) */
	/* the guest was heard: a PONG, anything on main (the loop raises SHIM_EV_GUEST_UP from them) */
	bool hb_pong, main_activity;
	bool main_open;
	bool ready_logged;           /* shim.log has this boot's "ready after" line */
	bool link_pause_noted;       /* logged that the guest stopped reading the link (once per boot) */
	unsigned guest_errors_logged; /* the guest's ERRORs logged this boot (link.c stops at a few) */
	struct bx_msgbuf main_in;    /* guest -> host messages on main, not yet handled */
	struct bx_bytes main_out;          /* host -> guest bytes on main waiting for credit */
	bool time_sent;              /* this main channel got its first TIME (main_out waits for it) */
	/* this boot's main ran (the guest's STARTED): outlives the live states, since
	 * the record, the sync reply and the start deadline read it to the end */
	bool main_started;
	char start_error[512];       /* why main did not start (the guest's ERROR), safe text */
	int sync_fd;                 /* the CLI waits on it for main to start (-1: told, or none) */
	const char *test_hold_main;  /* BOXVM_TEST_HOLD_MAIN: main starts once this file exists */
	char fail_text[8192];        /* what shim_finish told of a failed box */
	char *autopsy;               /* a boot ended by the backstop: where it stood (autopsy.c), kept with its console log */
	long long time_due_ms;       /* send the host's clock (TIME) at this time (0: not yet open) */

	/* the attached client */
	int cli_fd;                  /* -1: none */
	bool cli_ready;              /* the handshake (flags byte + fds) arrived */
	bool ever_attached, cli_stdin, keep_fds;
	bool cli_stdin_msgs;         /* stdin comes as STDIN messages on the socket, not as an fd */
	bool cli_wants_started;      /* BX_ATTACH_STARTED: send it STARTED once main runs */
	bool cli_wants_guest_up;     /* BX_ATTACH_GUEST_UP: send it GUEST_UP once the guest answers */
	bool guest_up_told;
	bool main_held;              /* spec.hold_main until SIGUSR2 value 2 releases it */
	int main_pid;                /* main's guest pid, from its STARTED */
	struct io out[2];            /* stdout, stderr */
	struct io in;
	bool stdin_eof_sent;
	struct bx_msgbuf cli_in;     /* messages from the client (SIGNAL, RESIZE) */
	struct bx_bytes cli_out;           /* messages to the client */
	struct bx_bytes pend;              /* output bytes of one STDOUT/STDERR message being written */
	int pend_stream;             /* 0 stdout, 1 stderr */

	/* the end: data of the ending states, set by the END action */
	enum end_reason end_reason;
	int exit_code;
	char end_msg[1536];
	long long stop_deadline_ms;  /* kill QEMU if it has not exited by then */
	long long drain_deadline_ms; /* stop flushing output to a slow client by then */
	long long restart_at_ms;     /* RESTARTING: the backoff ends then */
	int fresh_boots;             /* boots done again for the guest kernel's sake (freshboot.c) */
	/* a TCG boot not heard from yet: its translation counts (bootwatch.c) */
	struct {
		long long next_ms;       /* ask QEMU again then */
		long long since_ms;      /* the counts are tbs since then */
		char tbs[96];            /* "" : not known yet */
	} watch;

	struct shim_lc lc;           /* state record, json-file log, restart policy */

	/* exec.sock: relayed exec/pty sessions (exec.c) */
	int exec_listen_fd;
	struct exec_conn *exec_conns;
	int exec_count;

	struct shim_health *health; /* the box's health check (health.c); NULL: none */
	struct shim_podnet *podnet; /* a pod's port following (podnet.c); NULL: none this boot */

	/* a warm-pool VM (pool.c): booted for no box yet, until a CLI claims it */
	bool pooled;                 /* --pool and not yet claimed: spec is the pool entry's */
	bool pool_ready;             /* POOLDIR/ready written (the guest answered) */
	int pool_fd;                 /* RUN/pool/ID12/claim.sock while pooled; -1 otherwise */
	int pool_passt_fd;           /* passt's end of QEMU's network socketpair, until the claim starts it (-1) */
	int pool_claimed_fd;         /* POOLDIR/claimed, share-locked from the claim on: a claim in hand (-1) */
	uint32_t claim_id;           /* the channel carrying the box's CLAIM to the guest (0: none) */
	uint8_t *claim_spec;         /* the box's encoded spec, from its initramfs, until sent */
	size_t claim_spec_len;
	struct bx_bytes claim_out;   /* the CLAIM's bytes not yet sent (credit) */
	struct bx_msgbuf claim_in;   /* the guest's answer */
};

/* daemon.c */
void shim_log(struct shim *s, bool always, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int shim_daemonize(struct shim *s, struct bx_err *err);
/* Tell the CLI waiting on the sync pipe (src/common/reply.h): "ok" (error NULL),
 * or why the box did not start and the exit code `run` ends with. */
void shim_sync_report(int *sync_fd, int code, const char *error_or_null);
int shim_signals(struct shim *s, struct bx_err *err);

/* virtiofsd.c: spawn virtiofsd for the rootfs or for one share, each
 * confined to what it serves (aux.c keeps and awaits them) */
pid_t shim_spawn_rootfs_virtiofsd(struct shim *s, const char *sock, struct bx_err *err);
pid_t shim_spawn_share_virtiofsd(struct shim *s, const struct bx_share *sh, const char *sock, struct bx_err *err);

/* vm.c */
int shim_start_qemu(struct shim *s, struct bx_err *err);
int shim_connect_ctl(struct shim *s, struct bx_err *err);
void shim_reap(struct shim *s);
void shim_kill_child(pid_t pid, int sig);
/* One QMP command to this boot's QEMU (RUN/qmp.sock, vm/qmp.h's
 * bx_qmp_call): *ret (when not NULL) gets its answer, json_decref'd by the
 * caller. */
int shim_qmp(struct shim *s, const char *cmd, const char *args, struct json_t **ret, int timeout_ms,
	     struct bx_err *err);
/* Wait up to timeout_ms for QEMU to be reaped; 0 if it was. */
int shim_wait_qemu(struct shim *s, int timeout_ms);
void shim_wait_group_gone(struct shim *s, pid_t pgid, long long end_ms);
pid_t shim_spawn(struct shim *s, char *const argv[], int out_fd, struct bx_err *err);
/* In a forked child: its own process group, killed with the shim, signals
 * unblocked, stdout/stderr to out_fd (-1: kept), its memory open to KSM. */
void shim_child_init(pid_t parent, int out_fd);
/* In a forked child: killed with the shim (parent: its pid before fork); again
 * after a change of user, which clears the parent-death signal. */
void shim_child_die_with(pid_t parent);
/* The last line of a text file (a helper's log) into out ("" if none). */
void shim_last_line(const char *path, char *out, size_t size);

/* confine.c: QEMU's user, groups, fds and cgroup */
struct shim_qemu_fds {
	int fd[8 + BX_MAX_SHARES + BX_MAX_NETS + BX_SPARE_NICS]; /* child side, becomes 3, 4, ... in QEMU */
	int n;
	int console[2], ctl[2], err[2]; /* [0] the shim's end, [1] QEMU's */
	gid_t groups[1];
	int ngroups;
	int spare_at[BX_SPARE_NICS]; /* index in fd of each spare NIC's placeholder */
};
int shim_qemu_fds_open(struct shim *s, struct shim_qemu_fds *q, struct bx_qemu_fds *map, struct bx_err *err);
void shim_qemu_fds_close(struct shim_qemu_fds *q);
pid_t shim_qemu_spawn(struct shim *s, char *const argv[], struct shim_qemu_fds *q, struct bx_err *err);
void shim_qemu_cgroup_remove(struct shim *s);
/* At each boot, before its first process: the VM's host cgroup (vm.json's
 * limits read again); each child joins it (shim_child_join_cgroup) before
 * exec, and the boot closes its cgroup.procs once QEMU runs. */
void shim_vm_cgroup(struct shim *s);
void shim_child_join_cgroup(const struct shim *s);

/* console.c */
int shim_capture_start(struct shim *s, struct shim_capture *c, int fd, const char *name, struct bx_err *err);
void shim_capture_readable(struct shim *s, struct shim_capture *c);
/* QEMU is gone: take what is left, then close */
void shim_capture_finish(struct shim *s, struct shim_capture *c);

/* aux.c: helper processes beside QEMU (passt, virtiofsd for the rootfs and
 * per share). The start functions spawn; shim_aux_wait waits until all are
 * serving. shim_aux_add enters one into the table (NULL, the process killed:
 * the table is full). */
struct shim_aux *shim_aux_add(struct shim *s, pid_t pid, const char *what, const char *sock);
/* virtiofsd for the rootfs, awaited at once (before the shares are spawned) */
int shim_start_virtiofsd(struct shim *s, struct bx_err *err);
int shim_start_shares(struct shim *s, struct bx_err *err);
int shim_start_passt(struct shim *s, struct bx_err *err);
/* passt for the box's network and ports on fd (its end of QEMU's
 * socketpair; closed here): at the boot, or at a pool VM's claim */
int shim_spawn_passt(struct shim *s, int fd, struct bx_err *err);
int shim_aux_wait(struct shim *s, struct bx_err *err);
/* 1 if pid was an aux process (now marked exited) */
int shim_aux_reaped(struct shim *s, pid_t pid, int status);
void shim_stop_aux(struct shim *s);
/* passt_all.c: passt's -u spec forwarding every UDP port of the
 * namespace (spec.all_ports; "" = none); raises RLIMIT_NOFILE for passt
 * where it may, the caller restores *saved once passt is spawned. */
struct rlimit;
int shim_passt_all_prepare(struct shim *s, char *udp, size_t size, struct rlimit *saved,
			   struct bx_err *err);

/* netns.c: the box's taps on its named networks (spec.net_taps; their
 * daemons started as needed), and the initrd with this boot's /boxvm/net
 * (takes fd; returns it, or a memfd holding it and the segment) */
int shim_netns_open_taps(struct shim *s, struct bx_err *err);
void shim_netns_close_taps(struct shim *s);
int shim_netns_initrd(struct shim *s, int fd, struct bx_err *err);
/* --rm, once the box directory is gone: its addresses go back */
void shim_netns_release(struct shim *s);
/* The box started or stopped: its networks' DNS follow (bx_networks_changed) */
void shim_netns_poke(struct shim *s);
/* A tap (not on any bridge, down) in the caller's network namespace; -1 with errno */
int shim_tap_create(const char *ifname);

/* pool.c: a warm-pool VM (--pool): its claim socket (and low priority), its
 * ready file once the guest answers, a CLI's claim (the shim becomes the
 * box's), the CLAIM's bytes as credit allows, and the guest's answer */
int shim_pool_listen(struct shim *s, struct bx_err *err);
/* after the boot: the VM's processes at a low priority until claimed */
void shim_pool_booted(struct shim *s);
void shim_pool_guest_up(struct shim *s);
void shim_pool_accept(struct shim *s);
void shim_pool_claim_flush(struct shim *s);
void shim_pool_claim_answer(struct shim *s, const uint8_t *payload, size_t len);
/* An unclaimed pool VM ended: its directory goes, and one that had come up
 * asks `boxvm pool fill` for a replacement. */
void shim_pool_gone(struct shim *s);

/* link.c */
void shim_link_init(struct shim *s);
/* Open the main channel (at the link's start; a pool VM's once claimed) */
int shim_link_open_main(struct shim *s, struct bx_err *err);
int shim_link_start(struct shim *s, struct bx_err *err);
void shim_link_tick(struct shim *s, long long now);
void shim_link_readable(struct shim *s);
void shim_link_writable(struct shim *s);
void shim_main_send(struct shim *s, uint8_t kind, const void *payload, uint32_t len);
void shim_main_flush(struct shim *s);
/* The host's clock to the guest (BX_M_TIME) now, e.g. after an unpause
 * (queued in the mux; shim_link_writable sends it); resent by shim_link_tick
 * every BX_TIME_RESYNC_MS. */
void shim_link_send_time(struct shim *s);
void shim_process_main(struct shim *s);

/* attach.c */
int shim_listen(struct shim *s, struct bx_err *err);
void shim_accept(struct shim *s);
void shim_client_readable(struct shim *s);
void shim_client_writable(struct shim *s);
void shim_stdin_readable(struct shim *s);
void shim_output_writable(struct shim *s);
void shim_client_send(struct shim *s, uint8_t kind, const void *payload, uint32_t len);
void shim_client_send_started(struct shim *s);
/* The one out-of-memory policy (docs/ARCHITECTURE.md, "Errors"): the
 * attached client's session ends with the reason in shim.log; the box and
 * its json log go on. */
void shim_client_fail(struct shim *s, const struct bx_err *err);
void shim_client_gone(struct shim *s);
bool shim_output_busy(const struct shim *s);
bool shim_output_discarding(const struct shim *s);

/* exec.c: RUN/exec.sock, one mux channel per connection */
#define SHIM_EXEC_MAX 256
struct pollfd;
int shim_exec_listen(struct shim *s, struct bx_err *err);
/* Fill at most cap pollfds (the first is the listener); handle their revents. */
size_t shim_exec_poll_fill(struct shim *s, struct pollfd *p, size_t cap);
void shim_exec_poll_handle(struct shim *s, const struct pollfd *p, size_t n);
/* mux events of channels whose user is an exec connection */
void shim_exec_on_open_result(struct shim *s, struct bx_chan *ch, int errnum);
void shim_exec_on_data(struct shim *s, struct bx_chan *ch, const uint8_t *buf, size_t len);
void shim_exec_on_close(struct shim *s, struct bx_chan *ch);
/* The VM ends but the box goes on (a restart by the policy): its sessions
 * end, exec.sock keeps listening for the next boot's. */
void shim_exec_end_sessions(struct shim *s);
void shim_exec_close_all(struct shim *s);
/* A client still has the guest's bytes to get (the VM may be gone): the
 * box's end waits for them as for main's output, up to the drain deadline. */
bool shim_exec_output_pending(const struct shim *s);
/* exec_events.c: Docker's exec events of one session, seen as its bytes pass */
struct exec_watch;
struct exec_watch *shim_exec_watch_new(struct shim *s);
void shim_exec_watch_up(struct exec_watch *w, const uint8_t *buf, size_t n);
void shim_exec_watch_down(struct exec_watch *w, const uint8_t *buf, size_t n);
void shim_exec_watch_free(struct exec_watch *w);

/* podnet.c: a pod's port following (src/proto/podnet.h) for a box with
 * spec.all_ports: its channels (the podnet port and BX_PORT_TCP_BASE + P)
 * are routed here by link.c; the loop ticks it, polls its sockets (at most
 * SHIM_PODNET_FDS) and stops it with each boot */
#define SHIM_PODNET_FDS BX_PN_FDS_MAX
bool shim_podnet_owns(const struct bx_chan *ch);
int shim_podnet_on_open(struct shim *s, struct bx_chan *ch);
void shim_podnet_on_open_result(struct shim *s, struct bx_chan *ch, int errnum);
void shim_podnet_on_data(struct shim *s, struct bx_chan *ch, const uint8_t *buf, size_t len);
void shim_podnet_on_eof(struct shim *s, struct bx_chan *ch);
void shim_podnet_on_close(struct shim *s, struct bx_chan *ch);
void shim_podnet_tick(struct shim *s, long long now);
long long shim_podnet_wake(const struct shim *s);
size_t shim_podnet_poll_fill(struct shim *s, struct pollfd *p, size_t cap);
void shim_podnet_poll_handle(struct shim *s, const struct pollfd *p, size_t n);
void shim_podnet_stop(struct shim *s);

/* health.c: the box's health check, run on the exec service from the loop.
 * init reads config.json (no check: s->health stays NULL); start when main
 * runs (status "starting"), stop when the box's VM ends (Docker's
 * "unhealthy" of a stopped box); tick runs and times out checks, wake is
 * when it next needs the loop (0: never). The mux callbacks of its channel
 * go to on_* when owns says the channel is the check's. */
void shim_health_init(struct shim *s);
void shim_health_start(struct shim *s);
void shim_health_stop(struct shim *s);
void shim_health_tick(struct shim *s, long long now);
long long shim_health_wake(const struct shim *s);
bool shim_health_owns(const struct shim *s, const struct bx_chan *ch);
void shim_health_on_open_result(struct shim *s, struct bx_chan *ch, int errnum);
void shim_health_on_data(struct shim *s, struct bx_chan *ch, const uint8_t *buf, size_t len);
void shim_health_on_close(struct shim *s, struct bx_chan *ch);
void shim_health_free(struct shim *s);

/* main.c: the event loop. Every change of the lifecycle goes through
 * shim_event: the state machine (fsm.c) decides, main.c carries out the
 * actions. arg: what the event carries (NULL: nothing). */
struct shim_ev_arg {
	int code;         /* SHIM_EV_MAIN_EXIT: main's code; SIGTERM, FATAL: the box's */
	const char *msg;  /* why the box ends (NULL: the reason says it all) */
	uint32_t signo;   /* a signal's number, its sigqueue value and sender */
	int value;        /* (SHIM_EV_MAIN_STARTED: main's pid in the guest) */
	uint32_t pid;
};
void shim_event(struct shim *s, enum shim_event ev, const struct shim_ev_arg *arg);
static inline bool shim_ending(const struct shim *s)
{
	return shim_fsm_ending(s->state);
}

/* this boot's guest was heard: a PONG, anything on main */
static inline bool shim_guest_heard(const struct shim *s)
{
	return s->hb_pong || s->main_activity;
}

/* lifecycle.c */
void shim_lc_init(struct shim *s);
/* A boot begins: the record names this shim, status "starting" (or
 * "restarting" for the policy's restarts) until main runs: shim_lc_started
 * makes it "running" (Docker's State.Running) on the guest's STARTED. */
int shim_lc_booting(struct shim *s, struct bx_err *err);
void shim_lc_started(struct shim *s);
/* An OOM kill in the box (the guest's BX_M_OOM, or QEMU killed at its memory
 * ceiling): Docker's "oom" event, State.OOMKilled */
void shim_lc_oom(struct shim *s);
/* BOX_DIR/oom_kills: the OOM kills since the shim began, for every box (a
 * runtime box has no record: boxvm-runtime's `events` reads this), written
 * at most once a second (a guest can make OOM kills on purpose) and, if a
 * kill came since, once more as the box ends (final) */
void shim_lc_oom_file(struct shim *s, bool final);
void shim_lc_output(struct shim *s, int stream, const void *buf, size_t len);
bool shim_lc_restart_wanted(struct shim *s);
/* The policy restarts the box: counted and logged; the backoff (ms) before
 * the next boot. shim_lc_restart_recorded once the VM is torn down. */
long long shim_lc_restart_begin(struct shim *s);
void shim_lc_restart_recorded(struct shim *s);
/* the restart did not happen (a stop meanwhile) */
void shim_lc_restart_cancelled(struct shim *s);
/* the record says the user stopped the box (no restart) */
bool shim_lc_manually_stopped(struct shim *s);
void shim_lc_finished(struct shim *s);
/* --rm, once the box directory is gone: its anonymous volumes go too */
void shim_lc_remove_anon_volumes(struct shim *s);

/* pause.c: QMP stop / cont for the state machine's FREEZE / THAW (0 once
 * QEMU answered; a failure is logged and written to pause.err) */
int shim_pause_freeze(struct shim *s);
int shim_pause_thaw(struct shim *s);
/* after a thaw: the guest's clock, the record, RUN/paused */
void shim_pause_thawed(struct shim *s);
/* a new boot: RUN/paused goes */
void shim_pause_forget(struct shim *s);

/* autopsy.c: where a boot that showed no sign of life stands (QEMU still
 * running), as text for the kept console log; NULL without memory */
char *shim_boot_autopsy(struct shim *s, const char *ender);
/* bootwatch.c: a TCG boot not heard from that stopped translating new
 * code (a guest hang: another boot is due). The watch restarts with each
 * boot (from s->t0_ms); why gets the end's message; _wake is when the loop
 * must look again (0: not watched). */
void shim_boot_watch_reset(struct shim *s);
bool shim_boot_stalled(struct shim *s, long long now, char *why, size_t why_size);
long long shim_boot_watch_wake(const struct shim *s);
/* freshboot.c: the boot just ended is one the guest kernel could not go on
 * with (proto/guest_fatal.h), and another boot is due */
bool shim_fresh_boot_wanted(struct shim *s);

/* cleanup.c */
void shim_stop_children(struct shim *s);
void shim_finish(struct shim *s);
/* Keep console.log (capped) and the autopsy (NULL: none) in the
 * diagnostics directory; out gets the file's path ("" if not kept). */
int shim_keep_console(struct shim *s, const char *autopsy, char *out, size_t size);
/* The last lines of BOXDIR/file (console.log, passt.log), printable only,
 * joined with " | "; -1 when there are none. */
int shim_log_tail(const char *box_dir, const char *file, int lines, char *out, size_t size);

#endif
