/* The box state store: one record per box at DATA/boxes/<id>/state.json,
 * written atomically (temp + rename + fsync of the directory) under an
 * exclusive flock on DATA/boxes/<id>/lock; names are reserved atomically in
 * DATA/names/ (one entry per name). Readers reconcile a box whose shim died
 * (pid + process start time, never pid alone) to "exited".
 *
 * Contract shared by the lifecycle commands (ps, logs, stop, ...) and by
 * exec/attach/cp/top. Implemented in src/store/state*.c. */
#ifndef BOXVM_STATE_H
#define BOXVM_STATE_H

#include <limits.h>
#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"

enum bx_box_status {
	BX_BOX_CREATED,
	BX_BOX_RUNNING,
	BX_BOX_RESTARTING,
	BX_BOX_EXITED,
	BX_BOX_REMOVING,
	BX_BOX_PAUSED, /* the shim froze the whole VM (QMP stop); it runs on after unpause */
	BX_BOX_STARTING, /* the shim boots the VM; "running" once main runs in it (Docker shows "created") */
};

struct bx_box_record {
	char id[65];
	char name[128];
	char image[256];          /* reference as the user gave it */
	char image_id[72];
	enum bx_box_status status;
	int exit_code;
	long long created_ns, started_ns, finished_ns; /* unix ns, 0 = never */
	int shim_pid;
	unsigned long long shim_start_time; /* /proc/PID/stat field 22 */
	char box_dir[PATH_MAX];
	char run_dir[PATH_MAX];
	/* lifecycle (issue 4) */
	bool auto_remove;         /* --rm */
	bool manually_stopped;    /* stop/kill by the user: no restart policy until the next start */
	bool hold_output;         /* a client attaches right after start: keep main's output until it does */
	bool oom_killed;          /* an OOM kill in the box (guest or QEMU) since its last start (State.OOMKilled) */
	int restart_count;        /* restarts by the policy since the last start */
	char command[512];        /* for ps: entrypoint + cmd, shell-quoted */
	char error[256];          /* why the last start failed before main ran (State.Error); "" once one worked */
};

/* The status as the record stores it ("starting" included). */
const char *bx_box_status_name(enum bx_box_status s);
/* The status as Docker names it (State.Status, ps): a starting box is "created". */
const char *bx_box_status_docker(enum bx_box_status s);
/* Resolve a name, full ID or unique ID prefix. Unknown: "no such box: REF", errnum ENOENT;
 * ambiguous prefix: "box ID prefix REF is ambiguous". The record is reconciled. */
int bx_state_lookup(const struct bx_paths *p, const char *ref, struct bx_box_record *out, struct bx_err *err);
/* true if the box's shim is alive and the box is running or paused (reconciled):
 * Docker's State.Running, which a paused container keeps. */
bool bx_box_is_running(const struct bx_box_record *r);
/* A shim is supposed to be alive in this status: starting, running, paused
 * or restarting (between boots). */
bool bx_box_status_live(enum bx_box_status s);

/* ---- the rest of the store (lifecycle commands and the shim) ---- */

/* JSON text <-> record (pure). */
int bx_state_encode(const struct bx_box_record *r, char **text, struct bx_err *err);
int bx_state_decode(const char *text, struct bx_box_record *r, struct bx_err *err);
/* BOXDIR/state.json as it is on disk (not reconciled). */
int bx_state_read(const char *box_dir, struct bx_box_record *r, struct bx_err *err);
/* Write r (to r->box_dir) under the box's lock. */
int bx_state_write(const struct bx_box_record *r, struct bx_err *err);
/* Read-modify-write under the box's lock. fn returns 0 to write, 1 to leave
 * the record as it is, -1 (with err filled) to fail. *out (may be NULL)
 * receives the record as it ends up. */
typedef int (*bx_state_fn)(struct bx_box_record *r, void *ctx, struct bx_err *err);
int bx_state_update(const char *box_dir, bx_state_fn fn, void *ctx, struct bx_box_record *out, struct bx_err *err);
/* Every box with a record, reconciled, oldest first. Free with free(). */
int bx_state_list(const struct bx_paths *p, struct bx_box_record **out, size_t *n, struct bx_err *err);
/* A running/paused/restarting box whose shim is gone (pid + start time) becomes
 * exited (137, "finished" now) on disk and in *r; a --rm one is then removed
 * (its log kept, as for any failed --rm box): returns true when the box is
 * gone (r->status is then "removing"; also when its directory went since r
 * was read), false otherwise. */
bool bx_state_reconcile(struct bx_box_record *r);
/* Remove every trace of a box: its name, runtime dir, box dir (record last). */
int bx_state_remove(const struct bx_paths *p, const struct bx_box_record *r, struct bx_err *err);

/* Crash consistency (state_sweep.c). An operation that changes the store in
 * several steps (create, remove, rename, load, pull) runs between
 * bx_store_op_begin (a shared lock on DATA/ops.lock; returns its fd) and
 * bx_store_op_end. bx_store_sweep, run by bx_state_list, finishes or undoes
 * what such an operation left when its process died (only when no
 * operation is in progress): box dirs without a record, records left
 * "removing", names whose box is gone or called otherwise, temp files of
 * loads. */
int bx_store_op_begin(const char *data_dir, struct bx_err *err);
/* One start of a box at a time (two would each spawn a shim), and no
 * removal during one: an exclusive flock on BOXDIR/start.lock, held by a
 * start until its shim has recorded itself and by a removal while it marks
 * the record. Returns the fd (close to release; not inherited: O_CLOEXEC). */
int bx_state_start_lock(const char *box_dir, struct bx_err *err);
/* bx_state_remove for a caller that holds the store exclusively (the sweep). */
int bx_state_remove_locked(const struct bx_paths *p, const struct bx_box_record *r, struct bx_err *err);
void bx_store_op_end(int fd);
/* The store to oneself: waits until no operation runs and keeps any from
 * starting until bx_store_op_end (volume rm: a box being created cannot
 * take the volume it is checking). */
int bx_store_lock_all(const char *data_dir, struct bx_err *err);
void bx_store_sweep(const struct bx_paths *p);
/* Wait until done(r) holds (r reconciled) or timeout_ms passes (-1: forever).
 * Returns 1 when done, 0 on timeout, -1 on error (the box vanished: ENOENT). */
int bx_state_wait(const char *box_dir, bool (*done)(const struct bx_box_record *r, void *ctx), void *ctx,
		  int timeout_ms, struct bx_box_record *out, struct bx_err *err);
/* The same, given up (-1, ECANCELED) as soon as cancel_fd (a client's
 * socket; -1: none) reports a hang-up (POLLHUP/POLLERR: a half-close, as the
 * docker CLI does after an attach request, is no hang-up). */
int bx_state_wait_fd(const char *box_dir, bool (*done)(const struct bx_box_record *r, void *ctx), void *ctx,
		     int timeout_ms, int cancel_fd, struct bx_box_record *out, struct bx_err *err);

/* Process identity: /proc/PID/stat field 22 (start time in clock ticks).
 * err (may be NULL) says why not. */
int bx_proc_start_time(int pid, unsigned long long *out, struct bx_err *err);
bool bx_proc_alive(int pid, unsigned long long start_time);
/* A handle on a process that outlives its pid (pidfd): opened only if pid
 * is still the process that started at start_time; -1 if it is gone (or the
 * kernel has no pidfds). Wait on it with bx_pidfd_wait: 0 once the process
 * has exited, -1 (err filled) if timeout_ms passed first. Commands use it to
 * return only once a box's shim, and so every process of the box, is gone. */
int bx_proc_pidfd(int pid, unsigned long long start_time);
int bx_pidfd_wait(int pidfd, int timeout_ms, const char *what, struct bx_err *err);

/* Names (DATA/names/NAME -> ID symlinks, created atomically). Docker's rule:
 * [a-zA-Z0-9][a-zA-Z0-9_.-]+, a leading '/' is dropped. */
int bx_name_check(const char *name, struct bx_err *err);
/* Reserve name for id; "already in use" (125) if another box has it. A stale
 * entry (its box is gone) is taken over. */
int bx_name_reserve(const struct bx_paths *p, const char *name, const char *id, struct bx_err *err);
/* Drop name if it still belongs to id. */
void bx_name_release(const struct bx_paths *p, const char *name, const char *id);
/* A free adjective_noun name, reserved for id. */
int bx_name_generate(const struct bx_paths *p, const char *id, char *out, size_t size, struct bx_err *err);
/* The box dir of a box ID. */
int bx_state_box_dir(const struct bx_paths *p, const char *id, char *out, size_t size, struct bx_err *err);

#endif
