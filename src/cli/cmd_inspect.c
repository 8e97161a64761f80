/* boxvm inspect [-f TEMPLATE] BOX|IMAGE...: Docker-shaped JSON (Id, Name,
 * State, Config, HostConfig, ...), an array of one object per box; a name
 * that is no box is looked up as an image, as `docker inspect` does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../store/state.h"
#include "args.h"
#include "box_view.h"
#include "cli.h"
#include "inspect_out.h"

enum { OPT_FORMAT, OPT_HELP };
static const struct bx_opt inspect_opts[] = {
	{'f', "format", "string", OPT_FORMAT, "Format the output with a template, e.g. '{{.State.Status}}'"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

int cmd_inspect(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	int id, r;
	const char *val, *format = NULL;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, inspect_opts, &id, &val, &err)) > 0) {
		if (id == OPT_FORMAT)
			format = val;
		if (id == OPT_HELP) {
			bx_args_usage("boxvm inspect [OPTIONS] BOX|IMAGE [BOX|IMAGE...]", "Show low-level information on boxes or images.",
				      inspect_opts);
			return 0;
		}
	}
	if (r < 0 || cli_inspect_format_check(format, &err) < 0)
		return bx_cli_report(&err);
	if (cli_need_operands(&a, 1, -1, "boxvm inspect [OPTIONS] BOX|IMAGE [BOX|IMAGE...]", &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	int rc = 0;
	json_t *all = json_array();
	for (int i = a.i; i < argc; i++) {
		struct bx_box_record rec;
		if (bx_state_lookup(&p, argv[i], &rec, &err) == 0) {
			json_array_append_new(all, cli_box_inspect_json(&rec));
			continue;
		}
		json_t *img = err.errnum == ENOENT ? cli_image_inspect_json(&p, argv[i], NULL) : NULL;
		if (img) {
			json_array_append_new(all, img);
			continue;
		}
		if (err.errnum == ENOENT)
			bx_fail(&err, 0, "no such object: %s", argv[i]);
		rc = bx_cli_report(&err);
	}
	cli_inspect_print(all, format);
	json_decref(all);
	return rc;
}
