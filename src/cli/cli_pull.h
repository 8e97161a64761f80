/* The pull shared by `boxvm pull` and `boxvm run --pull` (cmd_pull.c). */
#ifndef BOXVM_CLI_PULL_H
#define BOXVM_CLI_PULL_H

#include <stdbool.h>
#include <stdio.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../image/image.h"

/* platform NULL: linux/amd64. Progress and status lines go to out. */
int cli_pull_image(const struct bx_paths *p, const char *ref, const char *platform, bool quiet, FILE *out,
		   struct bx_err *err);

/* The image a new box runs (run/create): policy "missing" pulls when the
 * store lacks it (telling stderr, as Docker does), "always" pulls first,
 * "never" only looks locally. */
int cli_image_for_box(const struct bx_paths *p, const char *ref, const char *policy, const char *platform,
		      struct bx_image *img, struct bx_err *err);

#endif
