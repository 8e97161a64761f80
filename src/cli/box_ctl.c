/* The loop of the CLI's multi-box commands (stop, kill, pause, rm, ...) (box_ctl.h). */
#include "box_ctl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

static int each_box(int first, int argc, char **argv, cli_box_fn fn, void *ctx, bool missing_ok)
{
	struct bx_err err = {0};
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	int rc = 0;
	for (int i = first; i < argc; i++) {
		struct bx_box_record rec;
		if (bx_state_lookup(&p, argv[i], &rec, &err) < 0) {
			int code = bx_cli_report(&err);
			if (!missing_ok || err.errnum != ENOENT)
				rc = code;
			continue;
		}
		if (fn(&p, argv[i], &rec, ctx, &err) < 0) {
			rc = bx_cli_report(&err);
			continue;
		}
		printf("%s\n", argv[i]);
		fflush(stdout);
	}
	return rc;
}

int cli_each_box(int first, int argc, char **argv, cli_box_fn fn, void *ctx)
{
	return each_box(first, argc, argv, fn, ctx, false);
}

int cli_each_box_missing_ok(int first, int argc, char **argv, cli_box_fn fn, void *ctx)
{
	return each_box(first, argc, argv, fn, ctx, true);
}

