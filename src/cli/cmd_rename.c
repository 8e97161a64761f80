/* boxvm rename BOX NEW_NAME (the work: bx_box_rename, src/box/rename.c). */
#include <stdio.h>
#include <string.h>

#include "../box/rename.h"
#include "../store/state.h"
#include "args.h"
#include "cli.h"

int cmd_rename(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const struct bx_opt opts[] = {
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm rename BOX NEW_NAME",
			   "Rename a box.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 2, 2, "boxvm rename BOX NEW_NAME", &err) < 0)
		return bx_cli_report(&err);
	const char *to = argv[a.i + 1][0] == '/' ? argv[a.i + 1] + 1 : argv[a.i + 1];
	struct bx_paths p;
	struct bx_box_record rec;
	if (bx_paths_init(&p, &err) < 0 || bx_state_lookup(&p, argv[a.i], &rec, &err) < 0)
		return bx_cli_report(&err);
	int rc = 0;
	if (bx_box_rename(&p, &rec, to, &err) < 0)
		rc = bx_cli_report(&err);
	return rc;
}
