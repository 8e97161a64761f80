/* The box state store: one record per box at DATA/boxes/<id>/state.json,
 * written atomically (temp + rename + fsync of the directory) under an
 * exclusive flock on DATA/boxes/<id>/lock; names are reserved atomically in
 * DATA/names/ (one entry per name). Readers reconcile a box whose shim died
 * (pid + process start time, never pid alone) to "exited".
 *
 * Contract shared by the lifecycle commands (ps, logs, stop, ...) and by
 * exec/attach/cp/top. Implemented in src/lib/state*.c. */
#ifndef BOXVM_STATE_H
#define BOXVM_STATE_H

#include <limits.h>
#include <stdbool.h>

#include "err.h"
#include "paths.h"

enum bx_box_status {
	BX_BOX_CREATED,
	BX_BOX_RUNNING,
	BX_BOX_RESTARTING,
	BX_BOX_EXITED,
	BX_BOX_REMOVING,
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
};

const char *bx_box_status_name(enum bx_box_status s);
/* Resolve a name, full ID or unique ID prefix. Unknown: exit 125 "no such box: REF";
 * ambiguous prefix: "box ID prefix REF is ambiguous". The record is reconciled. */
int bx_state_lookup(const struct bx_paths *p, const char *ref, struct bx_box_record *out, struct bx_err *err);
/* true if the box's shim is alive and the box is running (reconciled). */
bool bx_box_is_running(const struct bx_box_record *r);

#endif
