/* boxvm rm [-f] [-v] BOX...: remove boxes and every trace of them (record,
 * name, rootfs, logs, sockets). A running box needs -f, which kills its VM
 * first. -v (and the end of a --rm box) also removes its anonymous volumes. */
#include <stdio.h>

#include "../box/remove.h"
#include "../store/state.h"
#include "args.h"
#include "box_ctl.h"
#include "cli.h"

struct rm_opts {
	bool force, volumes;
};

static int remove_one(const struct bx_paths *p, const char *ref, struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	const struct rm_opts *o = ctx;
	return bx_box_remove(p, ref, r, o->force, o->volumes, err);
}

int cmd_rm(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	struct rm_opts o = {0};
	const struct bx_opt opts[] = {
		{'f', "force", NULL, 0, "Force the removal of a running box (kills its VM)", .on = &o.force},
		{'v', "volumes", NULL, 0, "Remove the anonymous volumes of the box (-v /path); named ones stay", .on = &o.volumes},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm rm [OPTIONS] BOX [BOX...]",
			   "Remove one or more boxes.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, -1, "boxvm rm [OPTIONS] BOX [BOX...]", &err) < 0)
		return bx_cli_report(&err);
	/* Docker's rm -f: a box that does not exist is reported, not an error (exit 0) */
	return (o.force ? cli_each_box_missing_ok : cli_each_box)(a.i, argc, argv, remove_one, &o);
}
