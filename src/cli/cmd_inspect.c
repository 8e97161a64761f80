/* boxvm inspect [-f TEMPLATE] BOX|IMAGE...: Docker-shaped JSON (Id, Name,
 * State, Config, HostConfig, ...), an array of one object per box; a name
 * that is no box is looked up as an image, as `docker inspect` does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../box/box_view.h"
#include "../store/state.h"
#include "args.h"
#include "cli.h"
#include "inspect_out.h"

int cmd_inspect(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *format = NULL;
	const struct bx_opt opts[] = {
		{'f', "format", "string", 0, "Format the output with a template, e.g. '{{.State.Status}}'", .str = &format},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm inspect [OPTIONS] BOX|IMAGE [BOX|IMAGE...]",
			   "Show low-level information on boxes or images.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_inspect_format_check(format, &err) < 0)
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
			json_array_append_new(all, bx_box_inspect_json(&rec));
			continue;
		}
		json_t *img = err.errnum == ENOENT ? bx_image_inspect_view(&p, argv[i], NULL) : NULL;
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
