/* boxvm tag SOURCE TARGET: another name for an image. */
#include <stdio.h>

#include "../store/image_gc.h"
#include "args.h"
#include "cli.h"

enum { OPT_HELP };
static const struct bx_opt tag_opts[] = {
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

int cmd_tag(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, tag_opts, &id, &val, &err)) > 0)
		if (id == OPT_HELP) {
			bx_args_usage("boxvm tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
				      "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.", tag_opts);
			return 0;
		}
	if (r < 0)
		return bx_cli_report(&err);
	if (cli_need_operands(&a, 2, 2, "boxvm tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0 || bx_image_tag(&p, argv[a.i], argv[a.i + 1], &err) < 0)
		return bx_cli_report(&err);
	return 0;
}
