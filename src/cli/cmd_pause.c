/* boxvm pause BOX...   and   boxvm unpause BOX...
 * Docker's pause: the whole microVM is frozen (QEMU stops its vCPUs through
 * the QMP monitor its shim holds), so nothing in the guest runs, timers
 * included, until unpause. stop, kill and rm -f still work on a paused box. */
#include <stdio.h>

#include "../store/state.h"
#include "args.h"
#include "box_ctl.h"
#include "cli.h"

static int pause_one(const struct bx_paths *p, const char *ref, struct bx_box_record *rec, void *ctx, struct bx_err *err)
{
	return bx_box_pause(ref, rec, true, err);
}

static int unpause_one(const struct bx_paths *p, const char *ref, struct bx_box_record *rec, void *ctx,
		       struct bx_err *err)
{
	return bx_box_pause(ref, rec, false, err);
}

static int pause_or_unpause(int argc, char **argv, bool pause)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *usage = pause ? "boxvm pause BOX [BOX...]" : "boxvm unpause BOX [BOX...]";
	const struct bx_opt opts[] = {
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, usage,
			   pause ? "Pause all processes within one or more boxes: the whole VM is frozen until unpause."
				    : "Unpause all processes within one or more boxes.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, -1, usage, &err) < 0)
		return bx_cli_report(&err);
	return cli_each_box(a.i, argc, argv, pause ? pause_one : unpause_one, NULL);
}

int cmd_pause(int argc, char **argv)
{
	return pause_or_unpause(argc, argv, true);
}

int cmd_unpause(int argc, char **argv)
{
	return pause_or_unpause(argc, argv, false);
}
