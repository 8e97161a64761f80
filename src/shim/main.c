/* boxvm-shim [--sync-fd N] BOXDIR/vm.json: the supervisor of one box for its
 * whole life (see README for the contract with the CLI). Its one event loop
 * feeds the lifecycle state machine (fsm.c) and carries out its actions. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/debug.h"
#include "../common/paths.h"
#include "../image/rootfs.h"
#include "../proto/ending.h"
#include "shim.h"

/* main's last output has this long to reach a slow client once the VM is gone */
#define DRAIN_MS 5000
/* main exited: the agent powers off after EXIT_ACK (and its exec sessions' last
 * words); QEMU is killed if it has not by then (proto/ending.h) */
#define POWER_OFF_MS BX_POWER_OFF_MS

static void shim_init(struct shim *s)
{
	memset(s, 0, sizeof(*s));
	s->state = SHIM_BOOTING;
	s->log_fd = s->sig_fd = s->listen_fd = s->ctl_fd = s->cli_fd = s->exec_listen_fd = -1;
	s->out[0].fd = s->out[1].fd = s->in.fd = -1;
	s->qemu_pid = -1;
	s->qemu_uid.lock_fd = -1;
	s->lc.remove_op_fd = -1;
	s->console.fd = s->qerr.fd = s->console.file.fd = s->qerr.file.fd = -1;
	s->pool_fd = s->pool_passt_fd = s->pool_claimed_fd = -1;
	s->debug = bx_debug_enabled();
}

/* What every boot of the VM needs (passt, virtiofsd(s), QEMU, the link); a
 * restart by the policy runs this again after tearing the previous boot down. */
static int boot(struct shim *s, struct bx_err *err)
{
	shim_vm_cgroup(s);
	int rc = shim_start_passt(s, err) < 0 || shim_start_virtiofsd(s, err) < 0 || shim_start_shares(s, err) < 0 ||
		 shim_aux_wait(s, err) < 0 || shim_netns_open_taps(s, err) < 0 || shim_start_qemu(s, err) < 0 ? -1 : 0;
	bx_cgroup_procs_close(&s->qemu_cg); /* every process of the boot has joined it */
	if (rc < 0 || shim_connect_ctl(s, err) < 0)
		return -1;
	shim_link_init(s);
	return shim_link_start(s, err);
}

/* Everything up to "ok": runtime dir, attach socket, then the first boot. */
static int setup(struct shim *s, struct bx_err *err)
{
	/* a pool VM has no box, no clients: only its claim socket until claimed */
	if (s->pooled) {
		if (shim_signals(s, err) < 0 || shim_pool_listen(s, err) < 0 || boot(s, err) < 0)
			return -1;
		shim_pool_booted(s);
		return 0;
	}
	/* bx_rootfs_ensure: the overlay root is gone after a host reboot; mount it again */
	if (bx_rootfs_ensure(s->spec.box_dir, err) < 0 || shim_signals(s, err) < 0 || shim_listen(s, err) < 0 ||
	    shim_exec_listen(s, err) < 0)
		return -1;
	return boot(s, err);
}

/* ---- the state machine's actions ---- */

/* Why QEMU exited (NULL: it simply did). */
static const char *vm_exit_text(struct shim *s, char *msg, size_t size)
{
	int st = s->qemu_status;
	msg[0] = '\0';
	if (WIFSIGNALED(st) && bx_cgroup_oom_kills(&s->qemu_cg) > 0)
		snprintf(msg, size, "qemu ran out of memory: its ceiling is %llu MiB (the guest's RAM plus QEMU's own)",
			 (unsigned long long)(bx_qemu_memory_ceiling(s->spec.mem_mb, !strcmp(s->spec.accel, "tcg")) >> 20));
	else if (WIFSIGNALED(st))
		snprintf(msg, size, "qemu was killed by signal %d", WTERMSIG(st));
	else if (WEXITSTATUS(st))
		snprintf(msg, size, "qemu exited with status %d", WEXITSTATUS(st));
	return msg[0] ? msg : NULL;
}

/* SHIM_A_END: the exit code, the message, the deadlines; QEMU is killed at
 * once unless main exited (then the guest powers off by itself). */
static void end_begin(struct shim *s, enum end_reason why, const struct shim_ev_arg *a)
{
	long long now = bx_mono_ms();
	int code = (why == END_EXIT || why == END_KILLED) && a ? a->code : BX_EXIT_ERROR;
	const char *msg = a ? a->msg : NULL;
	char vm_msg[160];
	if (why == END_VM_GONE && !msg)
		msg = vm_exit_text(s, vm_msg, sizeof(vm_msg));
	if (why == END_VM_GONE && WIFSIGNALED(s->qemu_status) && bx_cgroup_oom_kills(&s->qemu_cg) > 0)
		shim_lc_oom(s); /* killed at its memory ceiling: an OOM kill of the box, as Docker's */
	shim_health_stop(s); /* no check outlives the box's main */
	s->end_reason = why;
	s->exit_code = code;
	snprintf(s->end_msg, sizeof(s->end_msg), "%s", msg ? msg : "");
	s->drain_deadline_ms = now + DRAIN_MS;
	if (why == END_EXIT) {
		s->stop_deadline_ms = now + POWER_OFF_MS;
	} else {
		s->stop_deadline_ms = now;
		/* asked while QEMU still runs: the kill ends what could tell */
		if ((why == END_BACKSTOP || why == END_STALLED) && !s->qemu_exited && !s->autopsy)
			s->autopsy = shim_boot_autopsy(s, why == END_STALLED ? "its stall" : "the backstop");
		if (!s->qemu_exited)
			shim_kill_child(s->qemu_pid, SIGKILL);
	}
	shim_log(s, why != END_EXIT, "ending: reason %d, exit code %d%s%s", why, code, msg ? ": " : "", msg ? msg : "");
}

/* SHIM_A_LOG: a request heard in this state */
static void log_request(struct shim *s, enum shim_event ev, const struct shim_ev_arg *a)
{
	if (!a)
		return; /* not the CLI's (an attached client's signal resumes too) */
	if (ev == SHIM_EV_SIGTERM)
		shim_log(s, true, "signal %u: stopping the box", a->signo);
	else if (ev == SHIM_EV_SIGUSR1_BAD)
		shim_log(s, true, "ignoring a request for signal %d from pid %u", a->value, a->pid);
	else if (ev == SHIM_EV_SIGUSR2_BAD)
		shim_log(s, true, "ignoring a pause request with value %d from pid %u", a->value, a->pid);
	else if (ev == SHIM_EV_PAUSE || ev == SHIM_EV_RESUME)
		shim_log(s, false, "%s requested by pid %u", ev == SHIM_EV_PAUSE ? "pause" : "unpause", a->pid);
}

/* SHIM_A_STARTED: only now is the box "running" (its record), and a `run -d`
 * or `start` waiting on the sync pipe returns. A second STARTED (a hostile
 * guest) changes nothing. */
static void main_started(struct shim *s, const struct shim_ev_arg *a)
{
	if (s->main_started)
		return;
	s->main_started = true;
	s->main_pid = a ? a->value : -1;
	if (s->cli_wants_started)
		shim_client_send_started(s);
	shim_log(s, false, "main started (guest pid %d) after %lld ms", a ? a->value : -1, bx_mono_ms() - s->t0_ms);
	shim_lc_started(s);
	shim_health_start(s);
	shim_sync_report(&s->sync_fd, 0, NULL);
}

/* Forget everything about the VM that just ended; the attach socket, the
 * client and the log stay. */
static void reset_run(struct shim *s)
{
	shim_health_stop(s);
	shim_exec_end_sessions(s);
	shim_podnet_stop(s);
	shim_stop_children(s);
	if (s->ctl_fd >= 0)
		close(s->ctl_fd);
	s->ctl_fd = -1;
	bx_mux_free(&s->mux);
	bx_msgbuf_free(&s->main_in);
	bx_bytes_free(&s->main_out);
	bx_bytes_free(&s->pend);
	s->qemu_pid = -1;
	s->qemu_exited = false;
	s->qemu_status = 0;
	s->ctl_eof = false;
	s->main_id = s->hb_id = 0;
	s->main_retry_ms = s->hb_next_ms = 0;
	s->hb_pong = s->main_open = s->main_activity = s->ready_logged = false;
	s->stdin_eof_sent = false;
	s->main_started = false;
	s->start_error[0] = '\0';
	s->end_reason = END_NONE;
	s->end_msg[0] = '\0';
	s->stop_deadline_ms = s->drain_deadline_ms = 0;
	shim_pause_forget(s);
	/* the old sockets would satisfy the "is it up yet" checks at once */
	for (int i = 0; i < s->naux; i++)
		if (s->aux[i].sock[0])
			unlink(s->aux[i].sock);
	s->naux = 0;
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/vfs.sock", s->spec.run_dir) == 0)
		unlink(path);
	if (bx_path_join(path, sizeof(path), NULL, "%s/qmp.sock", s->spec.run_dir) == 0)
		unlink(path);
}

/* SHIM_A_RESTART: the VM is torn down and the backoff armed (the loop waits
 * it out in RESTARTING, still answering signals). */
static void restart_begin(struct shim *s)
{
	long long delay = shim_lc_restart_begin(s);
	reset_run(s);
	shim_lc_restart_recorded(s);
	s->restart_at_ms = bx_mono_ms() + delay;
}

/* SHIM_A_CANCEL_RESTART: a stop during the backoff; the box ends with
 * main's last exit code and nothing left to stop. */
static void restart_cancel(struct shim *s, const struct shim_ev_arg *a)
{
	if (a && a->signo)
		shim_log(s, false, "signal %u while waiting to restart: the box stops", a->signo);
	shim_lc_restart_cancelled(s);
	s->end_reason = END_EXIT;
	s->qemu_exited = true;
}

/* SHIM_A_BOOT: the policy's fresh VM on the same rootfs; SHIM_A_FRESH_BOOT
 * (fresh: freshboot.c's, unseen): the same boot, but the client and a
 * waiting `run -d` stay and the record is not touched (it says "starting"
 * still). Setup is synchronous, as for the first boot. */
static void boot_again(struct shim *s, bool fresh)
{
	s->t0_ms = bx_mono_ms();
	shim_boot_watch_reset(s);
	if (!fresh)
		s->ever_attached = true; /* a restarted boot never waits for a client */
	struct bx_err err;
	if (boot(s, &err) < 0) {
		shim_log(s, true, "restart failed: %s", err.msg);
		shim_stop_children(s); /* (helpers that die meanwhile still count as this boot's) */
		s->end_reason = END_VM_GONE;
		s->exit_code = BX_EXIT_ERROR;
		snprintf(s->end_msg, sizeof(s->end_msg), "restart failed: %s", err.msg);
		s->qemu_exited = true;
		shim_event(s, SHIM_EV_SETUP_FAILED, NULL);
		return;
	}
	if (!fresh)
		shim_lc_booting(s, NULL); /* logged; a live record cannot have been marked for removal */
	shim_event(s, SHIM_EV_SETUP_DONE, NULL);
}

void shim_event(struct shim *s, enum shim_event ev, const struct shim_ev_arg *a)
{
	struct shim_fsm_out out;
	enum shim_state from = s->state;
	s->state = shim_fsm_step(from, ev, &out);
	if (s->state != from)
		shim_log(s, false, "state %s -> %s (%s)", shim_fsm_state_name(from), shim_fsm_state_name(s->state),
			 shim_fsm_event_name(ev));
	/* the state is already the new one: an action's own events (FROZEN,
	 * SETUP_DONE) move on from there */
	unsigned act = out.actions;
	if (act & SHIM_A_LOG)
		log_request(s, ev, a);
	if (act & SHIM_A_END)
		end_begin(s, out.end, a);
	if (act & SHIM_A_KILL_VM) {
		if (s->end_reason == END_EXIT)
			shim_log(s, true, "the VM did not power off within 5 s of EXIT; killing it");
		shim_kill_child(s->qemu_pid, SIGKILL);
		s->stop_deadline_ms = bx_mono_ms() + 1000;
	}
	/* a VM reaped but not yet seen by the loop (SHIM_EV_VM_EXITED) is not asked */
	if (act & SHIM_A_THAW && !s->qemu_exited && shim_pause_thaw(s) == 0) {
		shim_event(s, SHIM_EV_THAWED, NULL);
		shim_pause_thawed(s);
	}
	if (act & SHIM_A_FREEZE && !s->qemu_exited && shim_pause_freeze(s) == 0)
		shim_event(s, SHIM_EV_FROZEN, NULL);
	if (act & SHIM_A_FORWARD) {
		uint8_t le[4] = {(uint8_t)a->value, 0, 0, 0};
		shim_log(s, false, "signal %d for main (from pid %u)", a->value, a->pid);
		shim_main_send(s, BX_M_SIGNAL, le, 4);
	}
	if (act & SHIM_A_STARTED)
		main_started(s, a);
	if (act & SHIM_A_ARM_DRAIN && !s->drain_deadline_ms)
		s->drain_deadline_ms = bx_mono_ms() + DRAIN_MS;
	if (act & SHIM_A_RESTART)
		restart_begin(s);
	if (act & SHIM_A_CANCEL_RESTART)
		restart_cancel(s, a);
	if (act & SHIM_A_BOOT)
		boot_again(s, false);
	if (act & SHIM_A_FRESH_BOOT)
		boot_again(s, true);
}

/* ---- the event loop ---- */

/* Signals arrive on the signalfd; each becomes an event, and fsm.c says what
 * it means in the current state. */
static void on_signals(struct shim *s)
{
	struct signalfd_siginfo si;
	while (read(s->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		struct shim_ev_arg a = {.signo = si.ssi_signo, .value = si.ssi_int, .pid = si.ssi_pid};
		switch (si.ssi_signo) {
		case SIGCHLD:
			shim_reap(s);
			break;
		case SIGTERM:
		case SIGHUP:
			a.code = 128 + SIGKILL;
			shim_event(s, SHIM_EV_SIGTERM, &a);
			break;
		case SIGINT: /* the CLI forwards ^C as a SIGNAL message */
			shim_event(s, SHIM_EV_SIGINT, &a);
			break;
		case SIGUSR1: /* sigqueue value: the signal for main */
			shim_event(s, a.value >= 1 && a.value <= 64 ? SHIM_EV_SIGUSR1 : SHIM_EV_SIGUSR1_BAD, &a);
			break;
		case SIGUSR2: /* sigqueue value 1 pause, 0 unpause, 2 release a held main */
			if (a.value == 2) {
				if (s->main_held) {
					s->main_held = false;
					s->t0_ms = bx_mono_ms(); /* main's start deadline counts from now */
					shim_link_send_time(s);
				}
				break;
			}
			shim_event(s, a.value == 1 ? SHIM_EV_PAUSE : a.value == 0 ? SHIM_EV_RESUME : SHIM_EV_SIGUSR2_BAD, &a);
			break;
		}
	}
}

/* The conditions the loop watches (QEMU's exit, the link's EOF, the guest's
 * first words, the output's drain, the deadlines), raised as events each
 * turn while they hold: the machine ignores those that mean nothing in its
 * state, so the order here is the only policy. */
static void conditions(struct shim *s, long long now)
{
	if (s->qemu_exited)
		shim_event(s, SHIM_EV_VM_EXITED, NULL);
	if (s->qemu_exited && !s->ctl_eof && s->ctl_fd >= 0)
		shim_link_readable(s); /* pick up the last bytes and the EOF */
	if (s->ctl_eof || s->ctl_fd < 0)
		shim_event(s, SHIM_EV_CTL_EOF, NULL);
	if (shim_guest_heard(s))
		shim_event(s, SHIM_EV_GUEST_UP, NULL);
	if (shim_guest_heard(s) && s->pooled && !shim_ending(s))
		shim_pool_guest_up(s);
	if (shim_guest_heard(s) && s->cli_wants_guest_up && !s->guest_up_told && !shim_ending(s)) {
		s->guest_up_told = true;
		shim_client_send(s, BX_M_GUEST_UP, NULL, 0);
	}
	/* the backstop, checked while the link works (as its heartbeat) */
	if (!shim_ending(s) && !s->mux.dead && now - s->t0_ms >= (long long)s->spec.boot_timeout_s * 1000) {
		char msg[256];
		if (!shim_guest_heard(s)) {
			snprintf(msg, sizeof(msg), "the VM showed no sign of life within %d s", s->spec.boot_timeout_s);
			shim_event(s, SHIM_EV_BOOT_DEADLINE, &(struct shim_ev_arg){.msg = msg});
		}
		/* a guest that answers but never starts main (wedged in its set-up, or
		 * hostile): the box ends, so a `run -d` waiting for main does not hang */
		if (!s->main_started && !s->test_hold_main && !s->main_held && !s->pooled) {
			snprintf(msg, sizeof(msg), "its command was not started within %d s of the boot",
				 s->spec.boot_timeout_s);
			shim_event(s, SHIM_EV_START_DEADLINE, &(struct shim_ev_arg){.msg = msg});
		}
	}
	/* a TCG boot that stopped running new code never comes up (bootwatch.c) */
	char stalled[160];
	if (shim_boot_stalled(s, now, stalled, sizeof(stalled)))
		shim_event(s, SHIM_EV_BOOT_STALLED, &(struct shim_ev_arg){.msg = stalled});
	/* The VM is gone: once its last bytes are in and handed on, main's and
	 * exec sessions' (or the clients are too slow for too long), the box
	 * ends. Twice: a drain that ends the box (VM_FLUSH) may also finish the
	 * ending one. */
	if (s->state == SHIM_VM_FLUSH)
		shim_process_main(s);
	for (int i = 0; i < 2 && s->qemu_exited; i++) {
		if (!shim_output_busy(s) && !shim_exec_output_pending(s))
			shim_event(s, SHIM_EV_DRAIN_DONE, NULL);
		else if (s->drain_deadline_ms && now >= s->drain_deadline_ms)
			shim_event(s, SHIM_EV_DRAIN_DEADLINE, NULL);
	}
	if (s->stop_deadline_ms && !s->qemu_exited && now >= s->stop_deadline_ms)
		shim_event(s, SHIM_EV_STOP_DEADLINE, NULL);
}

/* One poll: what the state reads, until the next deadline. Between boots
 * (RESTARTING) only signals are read: the client and exec.sock wait for
 * the next boot. */
static void poll_once(struct shim *s, long long now)
{
	struct pollfd p[10 + 1 + SHIM_EXEC_MAX + SHIM_PODNET_FDS];
	int n = 0, i_sig, i_pool = -1, i_lis = -1, i_ctl = -1, i_cli = -1, i_in = -1, i_out = -1, i_con = -1, i_qerr = -1;
	size_t i_exec = 0, i_podnet = 0, n_podnet = 0;
	bool vm = s->state != SHIM_RESTARTING;
	p[i_sig = n++] = (struct pollfd){.fd = s->sig_fd, .events = POLLIN};
	if (vm) {
		/* always drained: QEMU must never wait on its console (console.c) */
		if (s->console.fd >= 0)
			p[i_con = n++] = (struct pollfd){.fd = s->console.fd, .events = POLLIN};
		if (s->qerr.fd >= 0)
			p[i_qerr = n++] = (struct pollfd){.fd = s->qerr.fd, .events = POLLIN};
		if (s->cli_fd < 0 && s->listen_fd >= 0)
			p[i_lis = n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
		/* claims are taken once the guest answers (the ready file says so) */
		if (s->pooled && s->pool_ready && !shim_ending(s))
			p[i_pool = n++] = (struct pollfd){.fd = s->pool_fd, .events = POLLIN};
		/* not read while the guest leaves our output unread (backpressure, link.c) */
		if (s->ctl_fd >= 0 && !s->ctl_eof)
			p[i_ctl = n++] = (struct pollfd){
				.fd = s->ctl_fd, .events = (bx_mux_input_paused(&s->mux) ? 0 : POLLIN) |
							   (bx_mux_out_pending(&s->mux) ? POLLOUT : 0)};
		if (s->cli_fd >= 0)
			p[i_cli = n++] = (struct pollfd){.fd = s->cli_fd,
							 .events = (bx_bytes_size(&s->main_out) < 65536 ? POLLIN : 0) |
								   (bx_bytes_size(&s->cli_out) ? POLLOUT : 0)};
		if (s->in.fd >= 0 && s->main_id && !shim_ending(s) && bx_bytes_size(&s->main_out) < 65536)
			p[i_in = n++] = (struct pollfd){.fd = s->in.fd, .events = POLLIN};
		if (shim_output_busy(s) && s->out[s->pend_stream].fd >= 0)
			p[i_out = n++] = (struct pollfd){.fd = s->out[s->pend_stream].fd, .events = POLLOUT};
		i_exec = (size_t)n;
		n += (int)shim_exec_poll_fill(s, p + n, 1 + SHIM_EXEC_MAX);
		i_podnet = (size_t)n;
		n_podnet = shim_podnet_poll_fill(s, p + n, SHIM_PODNET_FDS);
		n += (int)n_podnet;
	}
	int timeout = 1000;
	bool boot_deadline = !shim_ending(s) && !s->mux.dead &&
			     (!shim_guest_heard(s) || (!s->main_started && !s->test_hold_main && !s->main_held && !s->pooled));
	long long wake[] = {s->hb_next_ms, s->main_retry_ms, s->qemu_exited ? 0 : s->stop_deadline_ms,
			    s->drain_deadline_ms, boot_deadline ? s->t0_ms + s->spec.boot_timeout_s * 1000LL : 0,
			    vm ? 0 : s->restart_at_ms, vm ? shim_health_wake(s) : 0, vm ? shim_boot_watch_wake(s) : 0, vm ? shim_podnet_wake(s) : 0};
	for (size_t i = 0; i < sizeof(wake) / sizeof(wake[0]); i++)
		if (wake[i] && wake[i] - now < timeout)
			timeout = wake[i] > now ? (int)(wake[i] - now) : 0;
	if (vm && s->qemu_exited && !s->ctl_eof)
		timeout = timeout > 10 ? 10 : timeout;
	if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR) {
		shim_log(s, true, "poll: %s", strerror(errno));
		shim_event(s, SHIM_EV_FATAL, &(struct shim_ev_arg){.code = BX_EXIT_ERROR, .msg = "internal error"});
		return;
	}
	if (p[i_sig].revents)
		on_signals(s);
	if (!vm || s->state == SHIM_RESTARTING || s->state == SHIM_DONE)
		return; /* the signals ended this boot's VM: what was polled for it is stale */
	if (i_con >= 0 && p[i_con].revents)
		shim_capture_readable(s, &s->console);
	if (i_qerr >= 0 && p[i_qerr].revents)
		shim_capture_readable(s, &s->qerr);
	if (i_ctl >= 0 && p[i_ctl].revents & (POLLIN | POLLHUP | POLLERR))
		shim_link_readable(s);
	if (i_ctl >= 0 && p[i_ctl].revents & POLLOUT)
		shim_link_writable(s);
	if (i_lis >= 0 && p[i_lis].revents & POLLIN)
		shim_accept(s);
	if (i_pool >= 0 && p[i_pool].revents & POLLIN)
		shim_pool_accept(s);
	if (i_cli >= 0 && s->cli_fd >= 0 && p[i_cli].revents & POLLOUT)
		shim_client_writable(s);
	if (i_cli >= 0 && s->cli_fd >= 0 && p[i_cli].revents & (POLLIN | POLLHUP | POLLERR))
		shim_client_readable(s);
	if (i_in >= 0 && s->in.fd >= 0 && p[i_in].revents)
		shim_stdin_readable(s);
	if (i_out >= 0 && p[i_out].revents)
		shim_process_main(s);
	shim_exec_poll_handle(s, p + i_exec, i_podnet - i_exec);
	shim_podnet_poll_handle(s, p + i_podnet, n_podnet);
	shim_link_writable(s);
}

/* The one event loop, from the first boot's SETUP_DONE to DONE: every boot,
 * the restart policy's backoffs between them, and the ends. */
static void run(struct shim *s)
{
	while (s->state != SHIM_DONE) {
		long long now = bx_mono_ms();
		if (s->state == SHIM_ENDED) {
			/* a main that never ran is a failed start, not an exit: no
			 * restart, unless the guest kernel asked for a fresh boot */
			if (shim_fresh_boot_wanted(s)) {
				/* torn down here, in ENDED, where the last boot's
				 * helpers' exits mean nothing (in BOOTING they would
				 * end the box) */
				reset_run(s);
				shim_event(s, SHIM_EV_FRESH_BOOT, NULL);
			} else
				shim_event(s, s->sync_fd < 0 && shim_lc_restart_wanted(s) ? SHIM_EV_RESTART_WANTED
											: SHIM_EV_NO_RESTART,
					   NULL);
			continue;
		}
		if (s->state == SHIM_RESTARTING) {
			if (now >= s->restart_at_ms) {
				shim_event(s, shim_lc_manually_stopped(s) ? SHIM_EV_RESTART_CANCELLED : SHIM_EV_BACKOFF_DONE,
					   NULL);
				continue;
			}
		} else {
			shim_link_tick(s, now);
			shim_health_tick(s, now);
			shim_podnet_tick(s, now);
			conditions(s, now);
			if (s->state == SHIM_ENDED || s->state == SHIM_DONE)
				continue;
		}
		poll_once(s, now);
	}
}

/* BOXVM_TEST_SHIM_EXIT_DELAY_MS (a test knob): linger that long after the
 * box is cleaned up, so tests can prove that stop, rm -f and run return only
 * once the shim has exited, whatever the timing. */
static void exit_delay_for_tests(void)
{
	const char *v = getenv("BOXVM_TEST_SHIM_EXIT_DELAY_MS");
	char *end;
	long ms = v ? strtol(v, &end, 10) : 0;
	if (v && *end == '\0' && ms > 0 && ms <= 60000)
		usleep((useconds_t)ms * 1000);
}

/* The box ended before its main ran, and a `run -d` or `start` still waits:
 * tell it why, last, once nothing of the box is left. The guest's refusal
 * (126, 127) keeps its exit code; anything else is boxvm's own (125). */
static void report_start_failure(struct shim *s)
{
	if (s->sync_fd < 0)
		return;
	char msg[256];
	if (s->end_reason == END_EXIT && s->start_error[0]) {
		shim_sync_report(&s->sync_fd, s->exit_code, s->start_error);
		return;
	}
	if (s->fail_text[0]) {
		shim_sync_report(&s->sync_fd, BX_EXIT_ERROR, s->fail_text); /* cut to the reply's line */
		return;
	}
	if (s->end_reason == END_KILLED) {
		snprintf(msg, sizeof(msg), "box %.12s was stopped before its command started", s->spec.id);
	} else {
		snprintf(msg, sizeof(msg), "box %.12s ended (exit code %d) before its command was reported started",
			 s->spec.id, s->exit_code);
	}
	shim_sync_report(&s->sync_fd, BX_EXIT_ERROR, msg);
}

static int usage(void)
{
	fprintf(stderr, "usage: boxvm-shim [--pool] [--sync-fd N] BOXDIR/vm.json\n");
	return 2;
}

int main(int argc, char **argv)
{
	int sync_fd = -1;
	bool pooled = false;
	const char *spec_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pool")) {
			pooled = true;
		} else if (!strcmp(argv[i], "--sync-fd") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 0 || v > 65535 || fcntl((int)v, F_GETFD) < 0)
				return usage();
			sync_fd = (int)v;
			fcntl(sync_fd, F_SETFD, FD_CLOEXEC); /* never inherited by QEMU/virtiofsd */
		} else if (argv[i][0] != '-' && !spec_path) {
			spec_path = argv[i];
		} else {
			return usage();
		}
	}
	if (!spec_path)
		return usage();

	static struct shim s; /* large (the mux's channel table): not on the stack */
	shim_init(&s);
	s.sync_fd = sync_fd;
	s.pooled = pooled;
	s.test_hold_main = getenv("BOXVM_TEST_HOLD_MAIN");
	struct bx_err err;
	if (bx_vmspec_read(spec_path, &s.spec, &err) < 0) {
		fprintf(stderr, "boxvm-shim: %s\n", err.msg);
		shim_sync_report(&s.sync_fd, BX_EXIT_ERROR, err.msg);
		return 1;
	}
	s.main_held = s.spec.hold_main;
	if (shim_daemonize(&s, &err) < 0) {
		/* we are the daemon already (the parent exited): report via sync fd */
		shim_sync_report(&s.sync_fd, BX_EXIT_ERROR, err.msg);
		return 1;
	}
	s.t0_ms = bx_mono_ms();
	shim_boot_watch_reset(&s);
	shim_log(&s, false, "starting box %s", s.spec.id);
	shim_lc_init(&s);
	shim_health_init(&s);
	/* from here on stop, kill and rm -f find this shim; an rm that marked
	 * the box first wins: nothing has started, nothing to clean but our dir */
	if (shim_lc_booting(&s, &err) < 0) {
		bx_rm_rf(s.spec.run_dir, NULL);
		shim_sync_report(&s.sync_fd, BX_EXIT_ERROR, err.msg);
		shim_health_free(&s);
		return 1;
	}
	if (setup(&s, &err) < 0) {
		shim_log(&s, true, "start failed: %s", err.msg);
		shim_stop_children(&s); /* QEMU gone and its console drained before its tail is read */
		shim_event(&s, SHIM_EV_SETUP_FAILED, NULL);
		char tail[1024], msg[2200];
		if (s.qemu_pid > 0 && shim_log_tail(s.spec.box_dir, "console.log", 5, tail, sizeof(tail)) == 0)
			snprintf(msg, sizeof(msg), "%s; last boot log lines: %s", err.msg, tail);
		else
			snprintf(msg, sizeof(msg), "%s", err.msg);
		s.end_reason = END_KILLED; /* no diagnostics copy: the error goes to the CLI directly */
		s.exit_code = BX_EXIT_ERROR;
		s.ever_attached = true; /* nobody will attach: do not linger */
		/* clean up first, report last: when the CLI sees the error (and then
		 * EOF, as we exit), no process, socket or directory of the box is left */
		shim_finish(&s);
		if (s.pooled)
			shim_pool_gone(&s);
		shim_sync_report(&s.sync_fd, BX_EXIT_ERROR, msg);
		shim_health_free(&s);
		return 1;
	}
	/* run -d and start hear from us once main runs (link.c, main_started);
	 * a client that attaches at once (run, start -a) is told now: it gets
	 * main's story through the attach, and a box without a record (the OCI
	 * runtime's, tests' shimrun.py) keeps that older contract */
	shim_event(&s, SHIM_EV_SETUP_DONE, NULL);
	if (!s.lc.have_state || !s.ever_attached)
		shim_sync_report(&s.sync_fd, 0, NULL);
	run(&s);
	shim_exec_close_all(&s);
	shim_podnet_stop(&s);
	shim_finish(&s);
	if (s.pooled)
		shim_pool_gone(&s);
	report_start_failure(&s);
	exit_delay_for_tests();
	shim_health_free(&s);
	bx_mux_free(&s.mux);
	bx_msgbuf_free(&s.main_in);
	bx_bytes_free(&s.main_out);
	bx_bytes_free(&s.pend);
	bx_bytes_free(&s.claim_out);
	bx_msgbuf_free(&s.claim_in);
	return 0;
}
