/* boxvm wait BOX...: block until each box stops, print its exit code. A box
 * that is not running answers at once with its last code: for one only
 * created, 0 (Docker 20.10's "not-running" condition). */
#include <errno.h>
#include <stdio.h>

#include "../store/state.h"
#include "args.h"
#include "box_ctl.h"
#include "cli.h"

/* The run that was going on when we started waiting has ended: the box is
 * not running, or it finished after that run began (a restart follows). A
 * box being started (its boot under way) is waited for like a running one. */
static bool run_over(const struct bx_box_record *r, void *ctx)
{
	long long started = *(long long *)ctx;
	return bx_box_not_running(r, NULL) || r->finished_ns > started;
}

int cmd_wait(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const struct bx_opt opts[] = {
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm wait BOX [BOX...]",
			   "Block until one or more boxes stop, then print their exit codes. A box that is\n"
			   "not running answers at once (one never started: 0).", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, -1, "boxvm wait BOX [BOX...]", &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	int rc = 0;
	for (int i = a.i; i < argc; i++) {
		struct bx_box_record rec;
		if (bx_state_lookup(&p, argv[i], &rec, &err) < 0) {
			rc = bx_cli_report(&err);
			continue;
		}
		/* between boots (restarting) or before main runs (starting), the
		 * record's started_ns is the previous run's: its end is behind us */
		long long started =
			rec.status == BX_BOX_RESTARTING || rec.status == BX_BOX_STARTING ? rec.finished_ns : rec.started_ns;
		struct bx_box_record end = rec;
		int w = bx_state_wait(rec.box_dir, run_over, &started, -1, &end, &err);
		if (w < 0 && err.errnum == ENOENT) {
			/* removed (--rm) before we saw the end: its code went with it */
			bx_fail(&err, 0, "box %s was removed before its exit code could be read", argv[i]);
			rc = bx_cli_report(&err);
			continue;
		}
		if (w < 0) {
			rc = bx_cli_report(&err);
			continue;
		}
		printf("%d\n", end.exit_code);
		fflush(stdout);
	}
	return rc;
}
