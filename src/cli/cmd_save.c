/* boxvm save [-o FILE] IMAGE...: an archive `docker load` and `boxvm load`
 * read (src/image/image_save.c), to FILE or to stdout. */
#include <stdio.h>
#include <unistd.h>

#include "../image/image.h"
#include "../image/image_inspect.h"
#include "../store/events.h"
#include "args.h"
#include "cli.h"

int cmd_save(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *out = NULL;
	const struct bx_opt opts[] = {
		{'o', "output", "FILE", 0, "Write to a file, instead of STDOUT", .str = &out},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm save [OPTIONS] IMAGE [IMAGE...]",
			   "Save one or more images to a tar archive (streamed to STDOUT by default)", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, -1, "boxvm save [-o FILE] IMAGE [IMAGE...]", &err) < 0)
		return bx_cli_report(&err);
	/* Docker's words and order: checked before the images are looked up */
	if (!out && isatty(STDOUT_FILENO)) {
		bx_fail(&err, 0, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
		return bx_cli_report(&err);
	}
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0 || bx_image_save(&p, argv + a.i, (size_t)(argc - a.i), out, &err) < 0)
		return bx_cli_report(&err);
	/* Docker's "save" event, one per image (by its ID) */
	for (int i = a.i; i < argc; i++) {
		struct bx_image img;
		if (bx_image_lookup(&p, argv[i], &img, NULL) < 0)
			continue;
		bx_event_emit(p.data, "image", "save", img.id, (const char *const[]){"name", img.id, NULL}, NULL);
		bx_image_free(&img);
	}
	return 0;
}
