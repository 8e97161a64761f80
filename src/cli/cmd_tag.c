/* boxvm tag SOURCE TARGET: another name for an image. */
#include <stdio.h>

#include "../store/image_gc.h"
#include "args.h"
#include "cli.h"

int cmd_tag(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const struct bx_opt opts[] = {
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
			   "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 2, 2, "boxvm tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0 || bx_image_tag(&p, argv[a.i], argv[a.i + 1], &err) < 0)
		return bx_cli_report(&err);
	return 0;
}
