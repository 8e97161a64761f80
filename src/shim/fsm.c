/* The box's lifecycle as a pure transition function (fsm.h): which event
 * means what in which state. The diagram is in src/shim/README.md. */
#include "fsm.h"

/* The end is decided in st: the ending state that follows it. */
static enum shim_state end(enum shim_state st, enum end_reason why, struct shim_fsm_out *out)
{
	out->actions |= SHIM_A_END;
	out->end = why;
	switch (st) {
	case SHIM_PAUSED:
		return SHIM_ENDING_FROZEN; /* QEMU stays frozen until it is killed (or unpaused) */
	case SHIM_VM_EXITED:
		return SHIM_ENDING_LINK;
	case SHIM_VM_FLUSH:
		return SHIM_ENDING_FLUSH;
	default:
		return SHIM_ENDING;
	}
}

/* Requests the CLI sends by signal, while the loop runs: the same in every
 * state where the box has a VM (or just had one). frozen: unpause first,
 * since a frozen guest would hold a signal for main until the stop timeout's
 * kill. Returns st for an event that is not one of them. */
static enum shim_state request(enum shim_state st, enum shim_event ev, bool frozen, struct shim_fsm_out *out)
{
	switch (ev) {
	case SHIM_EV_SIGUSR1:
		out->actions |= (frozen ? SHIM_A_THAW : 0) | SHIM_A_FORWARD;
		return st;
	case SHIM_EV_RESUME:
		out->actions |= SHIM_A_LOG | (frozen ? SHIM_A_THAW : 0);
		return st;
	case SHIM_EV_SIGTERM:
	case SHIM_EV_PAUSE:
	case SHIM_EV_SIGUSR1_BAD:
	case SHIM_EV_SIGUSR2_BAD:
		out->actions |= SHIM_A_LOG;
		return st;
	case SHIM_EV_MAIN_STARTED:
		/* whenever it comes: the record and a waiting `run -d` learn that main ran */
		out->actions |= SHIM_A_STARTED;
		return st;
	default:
		return st;
	}
}

/* Setup is synchronous (passt, virtiofsd, QEMU, the link): signals wait in
 * the signalfd until the loop reads them; only the reaper speaks meanwhile. */
static enum shim_state booting(enum shim_event ev, struct shim_fsm_out *out)
{
	switch (ev) {
	case SHIM_EV_SETUP_DONE:
		return SHIM_STARTING;
	case SHIM_EV_SETUP_FAILED:
		return SHIM_DONE;
	case SHIM_EV_HELPER_EXITED:
		/* the box cannot go on without it: the loop kills QEMU at once */
		return end(SHIM_BOOTING, END_VM_GONE, out);
	default:
		return SHIM_BOOTING;
	}
}

/* What ends a box that has not ended yet, the same in every state with a
 * VM (or the VM's last bytes): END_NONE for any other event. */
static enum end_reason ends_box(enum shim_event ev)
{
	switch (ev) {
	case SHIM_EV_MAIN_EXIT: return END_EXIT;
	case SHIM_EV_LINK_ERROR: return END_LINK;
	case SHIM_EV_HELPER_EXITED: return END_VM_GONE;
	case SHIM_EV_FATAL:
	case SHIM_EV_SIGTERM: return END_KILLED;
	default: return END_NONE;
	}
}

/* STARTING, PAUSE_PENDING, UP, PAUSED: a VM runs and nothing has ended. */
static enum shim_state live(enum shim_state st, enum shim_event ev, struct shim_fsm_out *out)
{
	bool silent = st == SHIM_STARTING || st == SHIM_PAUSE_PENDING;
	switch (ev) {
	case SHIM_EV_GUEST_UP:
		if (st == SHIM_PAUSE_PENDING) {
			out->actions |= SHIM_A_FREEZE; /* the pause that waited: now the backstop cannot count a frozen guest */
			return SHIM_UP;
		}
		return st == SHIM_STARTING ? SHIM_UP : st;
	case SHIM_EV_VM_EXITED:
		return SHIM_VM_EXITED; /* a waiting pause is dropped, a frozen VM is gone */
	case SHIM_EV_BOOT_DEADLINE:
		/* a guest that answered is past the boot: only the start deadline is left */
		return silent ? end(st, END_BACKSTOP, out) : st;
	case SHIM_EV_BOOT_STALLED:
		return silent ? end(st, END_STALLED, out) : st;
	case SHIM_EV_START_DEADLINE:
		return end(st, END_BACKSTOP, out);
	case SHIM_EV_PAUSE:
		out->actions |= SHIM_A_LOG;
		if (st == SHIM_STARTING)
			return SHIM_PAUSE_PENDING; /* frozen only once it answers: see pause.c */
		if (st == SHIM_UP)
			out->actions |= SHIM_A_FREEZE;
		return st;
	case SHIM_EV_FROZEN:
		return st == SHIM_UP ? SHIM_PAUSED : st;
	case SHIM_EV_THAWED:
		return st == SHIM_PAUSED ? SHIM_UP : st;
	case SHIM_EV_RESUME:
	case SHIM_EV_SIGUSR1:
		/* either drops a waiting pause: the guest must run to get the signal */
		return request(st == SHIM_PAUSE_PENDING ? SHIM_STARTING : st, ev, st == SHIM_PAUSED, out);
	default:
		return request(st, ev, false, out);
	}
}

/* VM_EXITED, VM_FLUSH: QEMU is gone but nothing has ended yet; the link's
 * last bytes may still hold main's EXIT. */
static enum shim_state vm_exited(enum shim_state st, enum shim_event ev, struct shim_fsm_out *out)
{
	switch (ev) {
	case SHIM_EV_CTL_EOF:
		if (st == SHIM_VM_EXITED) {
			out->actions |= SHIM_A_ARM_DRAIN;
			return SHIM_VM_FLUSH;
		}
		return st;
	case SHIM_EV_DRAIN_DONE:
	case SHIM_EV_DRAIN_DEADLINE:
		return st == SHIM_VM_FLUSH ? end(st, END_VM_GONE, out) : st;
	case SHIM_EV_BOOT_DEADLINE:
	case SHIM_EV_START_DEADLINE:
		/* the loop raises them only for a guest never heard / a main never started */
		return end(st, END_BACKSTOP, out);
	default:
		return request(st, ev, false, out);
	}
}

/* ENDING, ENDING_FROZEN, ENDING_LINK, ENDING_FLUSH: the first end decided
 * it; what follows only waits for QEMU, the link's EOF and the drain. */
static enum shim_state ending(enum shim_state st, enum shim_event ev, struct shim_fsm_out *out)
{
	bool vm = st == SHIM_ENDING || st == SHIM_ENDING_FROZEN;
	switch (ev) {
	case SHIM_EV_VM_EXITED:
		return vm ? SHIM_ENDING_LINK : st;
	case SHIM_EV_STOP_DEADLINE:
		if (vm)
			out->actions |= SHIM_A_KILL_VM;
		return st;
	case SHIM_EV_CTL_EOF:
		return st == SHIM_ENDING_LINK ? SHIM_ENDING_FLUSH : st;
	case SHIM_EV_DRAIN_DONE:
	case SHIM_EV_DRAIN_DEADLINE:
		return st == SHIM_ENDING_FLUSH ? SHIM_ENDED : st;
	case SHIM_EV_SETUP_FAILED:
		/* a helper died while the boot was set up (BOOTING -> ENDING) */
		return st == SHIM_ENDING ? SHIM_DONE : st;
	case SHIM_EV_THAWED:
		return st == SHIM_ENDING_FROZEN ? SHIM_ENDING : st;
	default:
		return request(st, ev, st == SHIM_ENDING_FROZEN, out);
	}
}

/* Between boots there is no VM: a stop or kill (SIGTERM, SIGUSR1 whatever
 * its value) ends the box instead of reaching main; a pause has nothing to
 * freeze (the CLI refuses a restarting box). */
static enum shim_state restarting(enum shim_event ev, struct shim_fsm_out *out)
{
	switch (ev) {
	case SHIM_EV_BACKOFF_DONE:
		out->actions |= SHIM_A_BOOT;
		return SHIM_BOOTING;
	case SHIM_EV_RESTART_CANCELLED:
	case SHIM_EV_SIGTERM:
	case SHIM_EV_SIGUSR1:
	case SHIM_EV_SIGUSR1_BAD:
		out->actions |= SHIM_A_CANCEL_RESTART;
		return SHIM_DONE;
	default:
		return SHIM_RESTARTING;
	}
}

enum shim_state shim_fsm_step(enum shim_state st, enum shim_event ev, struct shim_fsm_out *out)
{
	out->actions = 0;
	out->end = END_NONE;
	switch (st) {
	case SHIM_BOOTING:
		return booting(ev, out);
	case SHIM_STARTING:
	case SHIM_PAUSE_PENDING:
	case SHIM_UP:
	case SHIM_PAUSED:
		if (ends_box(ev))
			break;
		return live(st, ev, out);
	case SHIM_VM_EXITED:
	case SHIM_VM_FLUSH:
		if (ends_box(ev))
			break;
		return vm_exited(st, ev, out);
	case SHIM_ENDING:
	case SHIM_ENDING_FROZEN:
	case SHIM_ENDING_LINK:
	case SHIM_ENDING_FLUSH:
		return ending(st, ev, out);
	case SHIM_ENDED:
		/* transient: the loop asks the policy at once, reading nothing meanwhile */
		if (ev == SHIM_EV_FRESH_BOOT) {
			out->actions |= SHIM_A_FRESH_BOOT;
			return SHIM_BOOTING;
		}
		if (ev == SHIM_EV_RESTART_WANTED) {
			out->actions |= SHIM_A_RESTART;
			return SHIM_RESTARTING;
		}
		return ev == SHIM_EV_NO_RESTART ? SHIM_DONE : st;
	case SHIM_RESTARTING:
		return restarting(ev, out);
	default:
		return SHIM_DONE; /* over: nothing changes it */
	}
	/* here: an event that ends a box with a VM (ends_box) */
	if (ev == SHIM_EV_SIGTERM)
		out->actions |= SHIM_A_LOG;
	return end(st, ends_box(ev), out);
}

bool shim_fsm_ending(enum shim_state st)
{
	return st >= SHIM_ENDING && st <= SHIM_DONE;
}

bool shim_fsm_frozen(enum shim_state st)
{
	return st == SHIM_PAUSED || st == SHIM_ENDING_FROZEN;
}

const char *shim_fsm_state_name(enum shim_state st)
{
	static const char *const names[SHIM_NSTATES] = {
		"booting", "starting", "pause-pending", "up", "paused", "vm-exited", "vm-flush",
		"ending", "ending-frozen", "ending-link", "ending-flush", "ended", "restarting", "done"};
	return (unsigned)st < SHIM_NSTATES ? names[st] : "?";
}

const char *shim_fsm_event_name(enum shim_event ev)
{
	static const char *const names[SHIM_NEVENTS] = {
		"setup-done", "setup-failed", "guest-up", "main-started", "main-exit", "link-error", "vm-exited",
		"helper-exited", "ctl-eof", "boot-deadline", "start-deadline", "boot-stalled", "sigterm", "sigint", "sigusr1",
		"sigusr1-bad", "pause", "resume", "sigusr2-bad", "frozen", "thawed", "stop-deadline", "drain-done",
		"drain-deadline", "restart-wanted", "no-restart", "backoff-done", "restart-cancelled", "fresh-boot", "fatal"};
	return (unsigned)ev < SHIM_NEVENTS ? names[ev] : "?";
}
