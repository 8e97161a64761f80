/* The shim's lifecycle state machine (src/shim/fsm.c): every state x event
 * against a table written out here, then a few whole lives of a box. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "shim/fsm.h"

struct cell {
	enum shim_state next;
	unsigned actions;
	enum end_reason end;
};

/* expected[state][event]; a cell nobody sets: the event changes nothing */
static struct cell expected[SHIM_NSTATES][SHIM_NEVENTS];

static void want(enum shim_state st, enum shim_event ev, enum shim_state next, unsigned actions, enum end_reason end)
{
	expected[st][ev] = (struct cell){next, actions, end};
}

/* The end decided in st: every cause, and the state each leads to. */
static void enders(enum shim_state st, enum shim_state to)
{
	want(st, SHIM_EV_MAIN_EXIT, to, SHIM_A_END, END_EXIT);
	want(st, SHIM_EV_LINK_ERROR, to, SHIM_A_END, END_LINK);
	want(st, SHIM_EV_HELPER_EXITED, to, SHIM_A_END, END_VM_GONE);
	want(st, SHIM_EV_FATAL, to, SHIM_A_END, END_KILLED);
	want(st, SHIM_EV_SIGTERM, to, SHIM_A_LOG | SHIM_A_END, END_KILLED);
	want(st, SHIM_EV_START_DEADLINE, to, SHIM_A_END, END_BACKSTOP);
}

/* What the CLI's signals and main's STARTED mean while the loop runs a VM
 * (or just ran one): frozen ones unpause first. */
static void requests(enum shim_state st, bool frozen)
{
	unsigned thaw = frozen ? SHIM_A_THAW : 0;
	want(st, SHIM_EV_MAIN_STARTED, st, SHIM_A_STARTED, END_NONE);
	want(st, SHIM_EV_SIGUSR1, st, thaw | SHIM_A_FORWARD, END_NONE);
	want(st, SHIM_EV_RESUME, st, SHIM_A_LOG | thaw, END_NONE);
	want(st, SHIM_EV_PAUSE, st, SHIM_A_LOG, END_NONE);
	want(st, SHIM_EV_SIGTERM, st, SHIM_A_LOG, END_NONE);
	want(st, SHIM_EV_SIGUSR1_BAD, st, SHIM_A_LOG, END_NONE);
	want(st, SHIM_EV_SIGUSR2_BAD, st, SHIM_A_LOG, END_NONE);
}

static void build_table(void)
{
	for (int s = 0; s < SHIM_NSTATES; s++)
		for (int e = 0; e < SHIM_NEVENTS; e++)
			expected[s][e] = (struct cell){(enum shim_state)s, 0, END_NONE};

	/* BOOTING: synchronous; signals wait for the loop, only the reaper speaks */
	want(SHIM_BOOTING, SHIM_EV_SETUP_DONE, SHIM_STARTING, 0, END_NONE);
	want(SHIM_BOOTING, SHIM_EV_SETUP_FAILED, SHIM_DONE, 0, END_NONE);
	want(SHIM_BOOTING, SHIM_EV_HELPER_EXITED, SHIM_ENDING, SHIM_A_END, END_VM_GONE);

	/* STARTING: the guest is silent */
	requests(SHIM_STARTING, false);
	enders(SHIM_STARTING, SHIM_ENDING);
	want(SHIM_STARTING, SHIM_EV_GUEST_UP, SHIM_UP, 0, END_NONE);
	want(SHIM_STARTING, SHIM_EV_VM_EXITED, SHIM_VM_EXITED, 0, END_NONE);
	want(SHIM_STARTING, SHIM_EV_BOOT_DEADLINE, SHIM_ENDING, SHIM_A_END, END_BACKSTOP);
	want(SHIM_STARTING, SHIM_EV_BOOT_STALLED, SHIM_ENDING, SHIM_A_END, END_STALLED);
	want(SHIM_STARTING, SHIM_EV_PAUSE, SHIM_PAUSE_PENDING, SHIM_A_LOG, END_NONE);

	/* PAUSE_PENDING: silent, a pause waits */
	requests(SHIM_PAUSE_PENDING, false);
	enders(SHIM_PAUSE_PENDING, SHIM_ENDING);
	want(SHIM_PAUSE_PENDING, SHIM_EV_GUEST_UP, SHIM_UP, SHIM_A_FREEZE, END_NONE);
	want(SHIM_PAUSE_PENDING, SHIM_EV_VM_EXITED, SHIM_VM_EXITED, 0, END_NONE);
	want(SHIM_PAUSE_PENDING, SHIM_EV_BOOT_DEADLINE, SHIM_ENDING, SHIM_A_END, END_BACKSTOP);
	want(SHIM_PAUSE_PENDING, SHIM_EV_BOOT_STALLED, SHIM_ENDING, SHIM_A_END, END_STALLED);
	want(SHIM_PAUSE_PENDING, SHIM_EV_SIGUSR1, SHIM_STARTING, SHIM_A_FORWARD, END_NONE);
	want(SHIM_PAUSE_PENDING, SHIM_EV_RESUME, SHIM_STARTING, SHIM_A_LOG, END_NONE);

	/* UP: the guest answers */
	requests(SHIM_UP, false);
	enders(SHIM_UP, SHIM_ENDING);
	want(SHIM_UP, SHIM_EV_VM_EXITED, SHIM_VM_EXITED, 0, END_NONE);
	want(SHIM_UP, SHIM_EV_PAUSE, SHIM_UP, SHIM_A_LOG | SHIM_A_FREEZE, END_NONE);
	want(SHIM_UP, SHIM_EV_FROZEN, SHIM_PAUSED, 0, END_NONE);

	/* PAUSED: frozen */
	requests(SHIM_PAUSED, true);
	enders(SHIM_PAUSED, SHIM_ENDING_FROZEN);
	want(SHIM_PAUSED, SHIM_EV_VM_EXITED, SHIM_VM_EXITED, 0, END_NONE);
	want(SHIM_PAUSED, SHIM_EV_THAWED, SHIM_UP, 0, END_NONE);

	/* VM_EXITED, VM_FLUSH: QEMU gone, no end yet */
	requests(SHIM_VM_EXITED, false);
	enders(SHIM_VM_EXITED, SHIM_ENDING_LINK);
	want(SHIM_VM_EXITED, SHIM_EV_BOOT_DEADLINE, SHIM_ENDING_LINK, SHIM_A_END, END_BACKSTOP);
	want(SHIM_VM_EXITED, SHIM_EV_CTL_EOF, SHIM_VM_FLUSH, SHIM_A_ARM_DRAIN, END_NONE);
	requests(SHIM_VM_FLUSH, false);
	enders(SHIM_VM_FLUSH, SHIM_ENDING_FLUSH);
	want(SHIM_VM_FLUSH, SHIM_EV_BOOT_DEADLINE, SHIM_ENDING_FLUSH, SHIM_A_END, END_BACKSTOP);
	want(SHIM_VM_FLUSH, SHIM_EV_DRAIN_DONE, SHIM_ENDING_FLUSH, SHIM_A_END, END_VM_GONE);
	want(SHIM_VM_FLUSH, SHIM_EV_DRAIN_DEADLINE, SHIM_ENDING_FLUSH, SHIM_A_END, END_VM_GONE);

	/* the ending states: a second end changes nothing */
	requests(SHIM_ENDING, false);
	want(SHIM_ENDING, SHIM_EV_VM_EXITED, SHIM_ENDING_LINK, 0, END_NONE);
	want(SHIM_ENDING, SHIM_EV_STOP_DEADLINE, SHIM_ENDING, SHIM_A_KILL_VM, END_NONE);
	want(SHIM_ENDING, SHIM_EV_SETUP_FAILED, SHIM_DONE, 0, END_NONE);
	requests(SHIM_ENDING_FROZEN, true);
	want(SHIM_ENDING_FROZEN, SHIM_EV_VM_EXITED, SHIM_ENDING_LINK, 0, END_NONE);
	want(SHIM_ENDING_FROZEN, SHIM_EV_STOP_DEADLINE, SHIM_ENDING_FROZEN, SHIM_A_KILL_VM, END_NONE);
	want(SHIM_ENDING_FROZEN, SHIM_EV_THAWED, SHIM_ENDING, 0, END_NONE);
	requests(SHIM_ENDING_LINK, false);
	want(SHIM_ENDING_LINK, SHIM_EV_CTL_EOF, SHIM_ENDING_FLUSH, 0, END_NONE);
	requests(SHIM_ENDING_FLUSH, false);
	want(SHIM_ENDING_FLUSH, SHIM_EV_DRAIN_DONE, SHIM_ENDED, 0, END_NONE);
	want(SHIM_ENDING_FLUSH, SHIM_EV_DRAIN_DEADLINE, SHIM_ENDED, 0, END_NONE);

	/* ENDED: the policy answers */
	want(SHIM_ENDED, SHIM_EV_RESTART_WANTED, SHIM_RESTARTING, SHIM_A_RESTART, END_NONE);
	want(SHIM_ENDED, SHIM_EV_NO_RESTART, SHIM_DONE, 0, END_NONE);
	/* ... or the guest kernel could not go on: another boot at once, no backoff */
	want(SHIM_ENDED, SHIM_EV_FRESH_BOOT, SHIM_BOOTING, SHIM_A_FRESH_BOOT, END_NONE);

	/* RESTARTING: no VM; a stop or kill ends the box, a pause is ignored */
	want(SHIM_RESTARTING, SHIM_EV_BACKOFF_DONE, SHIM_BOOTING, SHIM_A_BOOT, END_NONE);
	want(SHIM_RESTARTING, SHIM_EV_RESTART_CANCELLED, SHIM_DONE, SHIM_A_CANCEL_RESTART, END_NONE);
	want(SHIM_RESTARTING, SHIM_EV_SIGTERM, SHIM_DONE, SHIM_A_CANCEL_RESTART, END_NONE);
	want(SHIM_RESTARTING, SHIM_EV_SIGUSR1, SHIM_DONE, SHIM_A_CANCEL_RESTART, END_NONE);
	want(SHIM_RESTARTING, SHIM_EV_SIGUSR1_BAD, SHIM_DONE, SHIM_A_CANCEL_RESTART, END_NONE);

	/* DONE: nothing */
}

static void every_state_and_event(void **state)
{
	build_table();
	int bad = 0;
	for (int s = 0; s < SHIM_NSTATES; s++) {
		for (int e = 0; e < SHIM_NEVENTS; e++) {
			struct shim_fsm_out out = {0xdead, END_KILLED};
			enum shim_state next = shim_fsm_step((enum shim_state)s, (enum shim_event)e, &out);
			const struct cell *c = &expected[s][e];
			if (next != c->next || out.actions != c->actions || out.end != c->end) {
				fprintf(stderr, "%s + %s: got %s actions 0x%x end %d, want %s actions 0x%x end %d\n",
					shim_fsm_state_name((enum shim_state)s), shim_fsm_event_name((enum shim_event)e),
					shim_fsm_state_name(next), out.actions, out.end, shim_fsm_state_name(c->next),
					c->actions, c->end);
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
}

/* Only SHIM_A_END names a reason; every state and event has a name. */
static void names_and_reasons(void **state)
{
	for (int s = 0; s < SHIM_NSTATES; s++) {
		assert_string_not_equal(shim_fsm_state_name((enum shim_state)s), "?");
		for (int e = 0; e < SHIM_NEVENTS; e++) {
			struct shim_fsm_out out;
			shim_fsm_step((enum shim_state)s, (enum shim_event)e, &out);
			assert_int_equal(out.end != END_NONE, (out.actions & SHIM_A_END) != 0);
		}
	}
	for (int e = 0; e < SHIM_NEVENTS; e++)
		assert_string_not_equal(shim_fsm_event_name((enum shim_event)e), "?");
	assert_string_equal(shim_fsm_state_name(SHIM_NSTATES), "?");
}

static void predicates(void **state)
{
	for (int s = 0; s < SHIM_NSTATES; s++) {
		bool ending = s == SHIM_ENDING || s == SHIM_ENDING_FROZEN || s == SHIM_ENDING_LINK ||
			      s == SHIM_ENDING_FLUSH || s == SHIM_ENDED || s == SHIM_RESTARTING || s == SHIM_DONE;
		assert_int_equal(shim_fsm_ending((enum shim_state)s), ending);
		assert_int_equal(shim_fsm_frozen((enum shim_state)s), s == SHIM_PAUSED || s == SHIM_ENDING_FROZEN);
	}
}

/* Feed events in order; the states reached, the actions of the last. */
static enum shim_state run(enum shim_state st, const enum shim_event *evs, size_t n, struct shim_fsm_out *last)
{
	for (size_t i = 0; i < n; i++)
		st = shim_fsm_step(st, evs[i], last);
	return st;
}

#define RUN(st, last, ...)                                                                                  \
	run((st), (const enum shim_event[]){__VA_ARGS__},                                                     \
	    sizeof((const enum shim_event[]){__VA_ARGS__}) / sizeof(enum shim_event), (last))

static void lives(void **state)
{
	struct shim_fsm_out o;
	/* a plain run: main exits, QEMU powers off, the link drains, no restart */
	assert_int_equal(RUN(SHIM_BOOTING, &o, SHIM_EV_SETUP_DONE, SHIM_EV_GUEST_UP, SHIM_EV_MAIN_STARTED,
			     SHIM_EV_MAIN_EXIT, SHIM_EV_VM_EXITED, SHIM_EV_CTL_EOF, SHIM_EV_DRAIN_DONE,
			     SHIM_EV_NO_RESTART),
			 SHIM_DONE);
	/* a pause asked while the guest boots is carried out once it answers */
	assert_int_equal(RUN(SHIM_STARTING, &o, SHIM_EV_PAUSE, SHIM_EV_GUEST_UP), SHIM_UP);
	assert_int_equal(o.actions, SHIM_A_FREEZE);
	/* stop of a paused box: unpause, then the signal */
	assert_int_equal(RUN(SHIM_UP, &o, SHIM_EV_FROZEN, SHIM_EV_SIGUSR1), SHIM_PAUSED);
	assert_int_equal(o.actions, SHIM_A_THAW | SHIM_A_FORWARD);
	/* kill of a paused box: the end keeps it frozen until QEMU is killed */
	assert_int_equal(RUN(SHIM_PAUSED, &o, SHIM_EV_SIGTERM), SHIM_ENDING_FROZEN);
	assert_int_equal(o.end, END_KILLED);
	assert_int_equal(RUN(SHIM_ENDING_FROZEN, &o, SHIM_EV_VM_EXITED, SHIM_EV_CTL_EOF, SHIM_EV_DRAIN_DEADLINE),
			 SHIM_ENDED);
	/* the VM exits with main's EXIT still in the link: the box ended by EXIT */
	assert_int_equal(RUN(SHIM_UP, &o, SHIM_EV_VM_EXITED, SHIM_EV_CTL_EOF, SHIM_EV_MAIN_EXIT), SHIM_ENDING_FLUSH);
	assert_int_equal(o.end, END_EXIT);
	/* ... or without it: the VM's exit ends it once the output drained */
	assert_int_equal(RUN(SHIM_UP, &o, SHIM_EV_VM_EXITED, SHIM_EV_CTL_EOF, SHIM_EV_DRAIN_DONE), SHIM_ENDING_FLUSH);
	assert_int_equal(o.end, END_VM_GONE);
	/* the restart policy: backoff, a fresh boot; a stop during the backoff ends the box */
	assert_int_equal(RUN(SHIM_ENDED, &o, SHIM_EV_RESTART_WANTED, SHIM_EV_PAUSE, SHIM_EV_BACKOFF_DONE,
			     SHIM_EV_SETUP_DONE),
			 SHIM_STARTING);
	assert_int_equal(RUN(SHIM_ENDED, &o, SHIM_EV_RESTART_WANTED, SHIM_EV_SIGUSR1), SHIM_DONE);
	assert_int_equal(o.actions, SHIM_A_CANCEL_RESTART);
	/* a boot whose kernel had no timer: booted again, then a life as any other */
	assert_int_equal(RUN(SHIM_STARTING, &o, SHIM_EV_VM_EXITED, SHIM_EV_CTL_EOF, SHIM_EV_DRAIN_DONE, SHIM_EV_DRAIN_DONE,
			     SHIM_EV_FRESH_BOOT),
			 SHIM_BOOTING);
	assert_int_equal(o.actions, SHIM_A_FRESH_BOOT);
	assert_int_equal(RUN(SHIM_BOOTING, &o, SHIM_EV_SETUP_DONE, SHIM_EV_GUEST_UP), SHIM_UP);
	/* a boot that stalled: ended (QEMU killed), then booted again the same way */
	assert_int_equal(RUN(SHIM_STARTING, &o, SHIM_EV_BOOT_STALLED), SHIM_ENDING);
	assert_int_equal(o.end, END_STALLED);
	assert_int_equal(RUN(SHIM_ENDING, &o, SHIM_EV_VM_EXITED, SHIM_EV_CTL_EOF, SHIM_EV_DRAIN_DONE, SHIM_EV_FRESH_BOOT),
			 SHIM_BOOTING);
	/* ... but a guest that answered is past its boot: a late stall means nothing */
	assert_int_equal(RUN(SHIM_STARTING, &o, SHIM_EV_GUEST_UP, SHIM_EV_BOOT_STALLED), SHIM_UP);
	assert_int_equal(o.actions, 0);
	/* a helper dying while the boot is set up ends it, whatever setup says next */
	assert_int_equal(RUN(SHIM_BOOTING, &o, SHIM_EV_HELPER_EXITED, SHIM_EV_SETUP_DONE), SHIM_ENDING);
	assert_int_equal(RUN(SHIM_BOOTING, &o, SHIM_EV_HELPER_EXITED, SHIM_EV_SETUP_FAILED), SHIM_DONE);
	/* the first end wins */
	assert_int_equal(RUN(SHIM_UP, &o, SHIM_EV_LINK_ERROR, SHIM_EV_MAIN_EXIT), SHIM_ENDING);
	assert_int_equal(o.actions, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_state_and_event),
		cmocka_unit_test(names_and_reasons),
		cmocka_unit_test(predicates),
		cmocka_unit_test(lives),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
