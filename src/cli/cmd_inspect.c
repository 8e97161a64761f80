/* boxvm inspect [-f TEMPLATE] BOX...: Docker-shaped JSON (Id, Name, State,
 * Config, HostConfig, ...), an array of one object per box. */
#include <stdio.h>
#include <stdlib.h>

#include "../lib/state.h"
#include "../lib/template.h"
#include "args.h"
#include "box_view.h"
#include "cli.h"

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
			bx_args_usage("boxvm inspect [OPTIONS] BOX [BOX...]", "Show low-level information on boxes.",
				      inspect_opts);
			return 0;
		}
	}
	if (r < 0 || (format && bx_template_check(format, &err) < 0))
		return bx_cli_report(&err);
	if (cli_need_operands(&a, 1, -1, "boxvm inspect [OPTIONS] BOX [BOX...]", &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	int rc = 0;
	json_t *all = json_array();
	for (int i = a.i; i < argc; i++) {
		struct bx_box_record rec;
		if (bx_state_lookup(&p, argv[i], &rec, &err) < 0) {
			rc = bx_cli_report(&err);
			continue;
		}
		json_t *o = cli_box_inspect_json(&rec);
		if (format) {
			char *t = NULL;
			if (bx_template_render(format, o, &t, &err) == 0)
				printf("%s\n", t);
			free(t);
			json_decref(o);
		} else {
			json_array_append_new(all, o);
		}
	}
	if (!format) {
		char *t = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		if (t)
			printf("%s\n", t);
		free(t);
	}
	json_decref(all);
	return rc;
}
