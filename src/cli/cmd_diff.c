/* boxvm diff BOX: the box's filesystem changes as Docker prints them
 * ("A /path", "C /path", "D /path"; src/image/changes.h says which and in
 * what order). Paths are printed as they are, as Docker's. */
#include <stdio.h>
#include <stdlib.h>

#include "../box/commit.h"
#include "args.h"
#include "cli.h"

int cmd_diff(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const struct bx_opt opts[] = {BX_OPT_HELP, BX_OPT_END};
	int r = cli_flags(&a, argc, argv, opts, "boxvm diff BOX", "Inspect changes to files or directories on a box's filesystem",
			  &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, 1, "boxvm diff BOX", &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	struct bx_change *c = NULL;
	size_t n = 0;
	if (bx_paths_init(&p, &err) < 0 || bx_box_changes(&p, argv[a.i], &c, &n, &err) < 0)
		return bx_cli_report(&err);
	for (size_t i = 0; i < n; i++)
		printf("%c %s\n", bx_change_letter(c[i].kind), c[i].path);
	bx_changes_free(c, n);
	return fflush(stdout) == 0 ? 0 : 1;
}
