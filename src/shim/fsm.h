/* The box's lifecycle as a state machine: the shim's states, the events that
 * move it and the actions a transition asks for. Pure (no I/O, no struct
 * shim): the event loop (main.c) raises the events and carries out the
 * actions; tests/unit/test_shim_fsm.c checks every state x event. */
#ifndef BOXVM_SHIM_FSM_H
#define BOXVM_SHIM_FSM_H

#include <stdbool.h>

/* Why a box ended: data of the ending states, read by the teardown
 * (cleanup.c), the restart policy and the sync reply. */
enum end_reason {
	END_NONE = 0,
	END_EXIT,     /* main reported EXIT */
	END_VM_GONE,  /* VM exited (or a helper it needs died) before main's EXIT */
	END_BACKSTOP, /* no sign of life, or main not started, within boot_timeout_s */
	END_KILLED,   /* SIGTERM to the shim (or a failed start) */
	END_LINK,     /* protocol error on the host<->guest link */
	END_STALLED,  /* a TCG boot never heard from stopped running new code (bootwatch.c) */
};

enum shim_state {
	SHIM_BOOTING = 0,   /* passt, virtiofsd, QEMU and the link are being set up (synchronously) */
	SHIM_STARTING,      /* the VM runs; nothing heard from the guest yet (the boot backstop is armed) */
	SHIM_PAUSE_PENDING, /* STARTING, with a pause to carry out once the guest answers */
	SHIM_UP,            /* the guest answers (main runs once it sent STARTED) */
	SHIM_PAUSED,        /* UP with the VM frozen (QMP stop) */
	SHIM_VM_EXITED,     /* QEMU exited before any end: the link's last bytes are read */
	SHIM_VM_FLUSH,      /* ... the link is at EOF: main's last output goes out (drain deadline), then the VM's exit ends the box */
	SHIM_ENDING,        /* the end is decided; QEMU still runs (killed at the stop deadline) */
	SHIM_ENDING_FROZEN, /* ENDING with the VM frozen */
	SHIM_ENDING_LINK,   /* the end is decided and QEMU is gone: the link's last bytes are read */
	SHIM_ENDING_FLUSH,  /* ... the link is at EOF: main's last output goes out (until the drain deadline) */
	SHIM_ENDED,         /* this boot is over: the restart policy decides */
	SHIM_RESTARTING,    /* the restart policy's backoff before the next boot */
	SHIM_DONE,          /* the box is over: teardown (shim_finish) and exit */
	SHIM_NSTATES
};

enum shim_event {
	SHIM_EV_SETUP_DONE,        /* a boot's set-up worked: the VM runs, the link is connected */
	SHIM_EV_SETUP_FAILED,      /* ... or failed (its children are stopped) */
	SHIM_EV_GUEST_UP,          /* the guest was heard (heartbeat PONG, main channel activity) */
	SHIM_EV_MAIN_STARTED,      /* the guest's STARTED: main runs */
	SHIM_EV_MAIN_EXIT,         /* the guest's EXIT: main is over */
	SHIM_EV_LINK_ERROR,        /* a protocol error on the host<->guest link */
	SHIM_EV_VM_EXITED,         /* QEMU was reaped */
	SHIM_EV_HELPER_EXITED,     /* virtiofsd or passt died */
	SHIM_EV_CTL_EOF,           /* the link reads EOF (or is closed) */
	SHIM_EV_BOOT_DEADLINE,     /* boot_timeout_s passed without a sign of life */
	SHIM_EV_START_DEADLINE,    /* boot_timeout_s passed and main has not started */
	SHIM_EV_BOOT_STALLED,      /* a TCG boot not heard from stopped translating new code (bootwatch.c) */
	SHIM_EV_SIGTERM,           /* SIGTERM or SIGHUP to the shim: kill the box */
	SHIM_EV_SIGINT,            /* SIGINT to the shim */
	SHIM_EV_SIGUSR1,           /* SIGUSR1 with a signal number: a signal for main */
	SHIM_EV_SIGUSR1_BAD,       /* SIGUSR1 whose value is no signal number */
	SHIM_EV_PAUSE,             /* SIGUSR2 value 1 */
	SHIM_EV_RESUME,            /* SIGUSR2 value 0, or a signal from the attached client */
	SHIM_EV_SIGUSR2_BAD,       /* SIGUSR2 with another value */
	SHIM_EV_FROZEN,            /* QEMU answered the pause (QMP stop) */
	SHIM_EV_THAWED,            /* QEMU answered the unpause (QMP cont) */
	SHIM_EV_STOP_DEADLINE,     /* the end's stop deadline passed and QEMU still runs */
	SHIM_EV_DRAIN_DONE,        /* main's output is all handed on */
	SHIM_EV_DRAIN_DEADLINE,    /* ... or the drain deadline passed */
	SHIM_EV_RESTART_WANTED,    /* the restart policy restarts the box */
	SHIM_EV_NO_RESTART,        /* ... or does not */
	SHIM_EV_BACKOFF_DONE,      /* the restart's backoff is over */
	SHIM_EV_RESTART_CANCELLED, /* ... and the record says the user stopped the box meanwhile */
	SHIM_EV_FRESH_BOOT,        /* the guest kernel could not go on (freshboot.c): boot again, unseen */
	SHIM_EV_FATAL,             /* the event loop itself failed */
	SHIM_NEVENTS
};

/* What a transition asks the loop to do, in this order. */
enum shim_action {
	SHIM_A_LOG = 1u << 0,            /* log the request (the event) as heard in this state */
	SHIM_A_END = 1u << 1,            /* decide the end (out.end): exit code, deadlines, QEMU killed unless main exited */
	SHIM_A_KILL_VM = 1u << 2,        /* SIGKILL QEMU (and again a second later if it lingers) */
	SHIM_A_THAW = 1u << 3,           /* QMP cont; SHIM_EV_THAWED once QEMU answered */
	SHIM_A_FREEZE = 1u << 4,         /* QMP stop; SHIM_EV_FROZEN once QEMU answered */
	SHIM_A_FORWARD = 1u << 5,        /* SIGUSR1's signal to main (waits on the main channel while it boots) */
	SHIM_A_STARTED = 1u << 6,        /* main runs: the record says so, a waiting `run -d` hears "ok" (once a boot) */
	SHIM_A_ARM_DRAIN = 1u << 7,      /* give main's last output the drain deadline */
	SHIM_A_RESTART = 1u << 8,        /* count the restart, tear the VM down, arm the backoff */
	SHIM_A_CANCEL_RESTART = 1u << 9, /* the restart will not happen: the box ends with main's last code */
	SHIM_A_BOOT = 1u << 10,          /* boot a fresh VM (SHIM_EV_SETUP_DONE or _FAILED follows) */
	SHIM_A_FRESH_BOOT = 1u << 11,    /* boot another VM at once, nothing counted or told (the loop tore the last down in ENDED) */
};

struct shim_fsm_out {
	unsigned actions;     /* enum shim_action bits */
	enum end_reason end;  /* with SHIM_A_END */
};

/* The next state after ev in st, and the actions for it (out is always
 * filled: no actions means the event changes nothing in st). */
enum shim_state shim_fsm_step(enum shim_state st, enum shim_event ev, struct shim_fsm_out *out);

/* The end is decided (or the box is between boots, or over): no new work is
 * taken on (exec sessions, stdin), helpers' deaths change nothing. */
bool shim_fsm_ending(enum shim_state st);
/* QEMU is frozen through QMP. */
bool shim_fsm_frozen(enum shim_state st);
const char *shim_fsm_state_name(enum shim_state st);
const char *shim_fsm_event_name(enum shim_event ev);

#endif
