/* boxvm rmi [-f] IMAGE...: untag or delete images (Docker's rules, see
 * image_gc.h), then collect what nothing references any more. */
#include <errno.h>
#include <stdio.h>

#include "../store/image_gc.h"
#include "args.h"
#include "cli.h"

static void print_report(void *ctx, const char *verb, const char *what)
{
	printf("%s: %s\n", verb, what);
}

int cmd_rmi(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	bool force = false;
	const struct bx_opt opts[] = {
		{'f', "force", NULL, 0, "Force removal of an image used by a stopped box, or with several names", .on = &force},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm rmi [OPTIONS] IMAGE [IMAGE...]",
			   "Remove one or more images.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, -1, "boxvm rmi [OPTIONS] IMAGE [IMAGE...]", &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	int rc = 0;
	for (int i = a.i; i < argc; i++) {
		if (bx_image_remove(&p, argv[i], force, print_report, NULL, &err) < 0) {
			int code = bx_cli_report(&err);
			if (!force || err.errnum != ENOENT) /* Docker's rmi -f: a missing image is reported, exit 0 */
				rc = code;
		}
		fflush(stdout);
	}
	return rc;
}
