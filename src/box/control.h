/* Box control, for every front end (the CLI's commands, later the API
 * server): requests travel to a box's shim as signals to its pid, only after
 * its start time proved it is still our shim (see src/shim/lifecycle.c). */
#ifndef BOXVM_BOX_CONTROL_H
#define BOXVM_BOX_CONTROL_H

#include <stdbool.h>

#include "../common/cleanup.h"
#include "../common/err.h"
#include "../common/paths.h"
#include "../store/state.h"

/* Deliver sig to the box's main process (through the guest agent). */
int bx_box_signal(const struct bx_box_record *r, int sig, struct bx_err *err);
/* Docker's kill: sig to the main process of a running box (ref: its name
 * for messages); KILL kills the VM at once (exit 137); KILL and the stop
 * signal count as a user stop (the restart policy stands down). */
int bx_box_kill(struct bx_box_record *rec, int sig, const char *ref, struct bx_err *err);
/* Kill the VM now (exit 137). */
int bx_box_kill_vm(const struct bx_box_record *r, struct bx_err *err);
/* Mark the box stopped by the user (restart policies stand down). */
int bx_box_mark_stopped(const struct bx_box_record *r, struct bx_err *err);
/* Docker's stop: the stop signal, timeout_s to exit, then a kill; waits until
 * the box is exited. A box that is not running is left alone (success). */
int bx_box_stop(struct bx_box_record *r, int sig, int timeout_s, struct bx_err *err);
/* Docker's pause (pause=true) / unpause of the box named ref: the shim
 * freezes or thaws the whole VM (SIGUSR2); returns once the record says
 * "paused" / "running". A guest still booting is paused once it is up. */
int bx_box_pause(const char *ref, struct bx_box_record *r, bool pause, struct bx_err *err);
/* Start an existing (created or exited) box's shim; attach when asked.
 * Returns the exit code when attached, 0 otherwise, -1 on error. */
int bx_box_start(const struct bx_paths *p, struct bx_box_record *r, bool attach, bool forward_stdin,
		  struct bx_err *err);

/* The same without attaching, for a client that attaches through the shim's
 * attach.sock itself (the Engine API's attach, made before its start): the
 * shim keeps main's output until that client comes. */
int bx_box_start_held(const struct bx_paths *p, struct bx_box_record *r, struct bx_err *err);

bool bx_box_not_running(const struct bx_box_record *r, void *ctx);

/* A command that ends a box returns only once the box's shim has exited (it
 * cleans up QEMU, virtiofsd, passt, sockets and mounts before that); this
 * long guard only bounds a wedged shim. */
#define SHIM_EXIT_GUARD_MS 60000
/* A pidfd on the shim of the box in box_dir (bx_proc_pidfd), -1 if none. */
int bx_box_shim_pidfd(const char *box_dir);
/* Wait for the shim behind shim_pidfd (-1: nothing to wait for) to exit; the
 * caller keeps the fd (_cleanup_close_). */
int bx_box_wait_shim_gone(int shim_pidfd, const char *name, struct bx_err *err);
/* Attach to a started box's main process (a raw terminal relay with keys for
 * a -t box, plain streams otherwise) and return its exit code once the shim
 * has exited too; 0 at once if the user detached; -1 with err. */
struct bx_vmspec;
struct bx_detach;
int bx_box_attach(const struct bx_vmspec *vm, bool forward_stdin, const struct bx_detach *keys, struct bx_err *err);

#endif
