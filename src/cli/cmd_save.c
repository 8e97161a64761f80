/* boxvm save [-o FILE] IMAGE...: an archive `docker load` and `boxvm load`
 * read (src/image/image_save.c), to FILE or to stdout. */
#include <stdio.h>
#include <unistd.h>

#include "../image/image.h"
#include "../image/image_inspect.h"
#include "../store/events.h"
#include "args.h"
#include "cli.h"

enum { OPT_OUTPUT, OPT_HELP };
static const struct bx_opt save_opts[] = {
	{'o', "output", "FILE", OPT_OUTPUT, "Write to a file, instead of STDOUT"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

int cmd_save(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	int id, r;
	const char *val, *out = NULL;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, save_opts, &id, &val, &err)) > 0) {
		if (id == OPT_OUTPUT)
			out = val;
		if (id == OPT_HELP) {
			bx_args_usage("boxvm save [OPTIONS] IMAGE [IMAGE...]",
				      "Save one or more images to a tar archive (streamed to STDOUT by default)",
				      save_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
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
