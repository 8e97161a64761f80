/* boxvm start [-a] [-i] BOX...: boot a created or exited box again, a fresh
 * VM on the same rootfs (it persists until rm). */
#include <stdio.h>

#include "../store/state.h"
#include "args.h"
#include "box_ctl.h"
#include "cli.h"

static bool not_starting(const struct bx_box_record *r, void *ctx)
{
	return r->status != BX_BOX_STARTING;
}

int cmd_start(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	bool attach = false, interactive = false;
	const struct bx_opt opts[] = {
		{'a', "attach", NULL, 0, "Attach STDOUT/STDERR and forward signals; exit with the box's code", .on = &attach},
		{'i', "interactive", NULL, 0, "Attach the box's STDIN", .on = &interactive},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm start [OPTIONS] BOX [BOX...]",
			   "Start one or more stopped boxes.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, -1, "boxvm start [OPTIONS] BOX [BOX...]", &err) < 0)
		return bx_cli_report(&err);
	if ((attach || interactive) && argc - a.i > 1) {
		bx_fail(&err, 0, "you cannot start and attach multiple boxes at once");
		return bx_cli_report(&err);
	}
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
		/* another client is starting it: ours means the same, once main runs */
		if (!attach && !interactive && rec.status == BX_BOX_STARTING &&
		    bx_state_wait(rec.box_dir, not_starting, NULL, -1, &rec, &err) < 0) {
			rc = bx_cli_report(&err);
			continue;
		}
		if (!attach && !interactive && rec.status == BX_BOX_RUNNING && bx_box_is_running(&rec)) {
			printf("%s\n", argv[i]); /* Docker: starting a running box is a no-op that succeeds */
			continue;
		}
		int code = bx_box_start(&p, &rec, attach || interactive, interactive, &err);
		if (code < 0) {
			rc = bx_cli_report(&err);
			continue;
		}
		if (attach || interactive)
			return code;
		printf("%s\n", argv[i]);
	}
	return rc;
}
