/* boxvm ps [-a] [-q] [--no-trunc] [--filter K=V]... [--format json|TEMPLATE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../box/box_view.h"
#include "../common/clock.h"
#include "../store/state.h"
#include "args.h"
#include "cli.h"
#include "inspect_out.h"
#include "table.h"
#include "template.h"

enum { OPT_ALL, OPT_QUIET, OPT_NO_TRUNC, OPT_FILTER, OPT_FORMAT, OPT_LAST, OPT_HELP };
static const struct bx_opt ps_opts[] = {
	{'a', "all", NULL, OPT_ALL, "Show all boxes (default shows just running)"},
	{'q', "quiet", NULL, OPT_QUIET, "Only display box IDs"},
	{0, "no-trunc", NULL, OPT_NO_TRUNC, "Don't truncate output"},
	{'f', "filter", "filter", OPT_FILTER, "Filter output: id=PREFIX, name=REGEXP, label=KEY[=VALUE], status=STATUS, health=starting|healthy|unhealthy|none"},
	{0, "format", "string", OPT_FORMAT, "Format output: 'json' or a template such as '{{.Names}}'"},
	{'n', "last", "int", OPT_LAST, "Show n last created boxes (includes all states)"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

static json_t *config_of(const struct bx_box_record *r)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/config.json", r->box_dir) < 0)
		return NULL;
	return json_load_file(path, 0, NULL);
}

/* Docker's table header titles a {{.Label "k"}} column "k": a Label map whose
 * every key the template asks for is its own value */
static json_t *label_titles(const char *tmpl)
{
	json_t *titles = json_object();
	for (const char *p = tmpl; (p = strstr(p, ".Label \"")); ) {
		p += 8;
		const char *end = strchr(p, '"');
		if (!end)
			break;
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)(end - p), p);
		json_object_set_new(titles, key, json_string(key));
		p = end + 1;
	}
	return titles;
}

int cmd_ps(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	struct bx_box_filters filters = {0};
	bool all = false, quiet = false, no_trunc = false;
	const char *format = NULL;
	int last = -1, id, r, rc = BX_EXIT_ERROR;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, ps_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_ALL: all = !val; break;
		case OPT_QUIET: quiet = !val; break;
		case OPT_NO_TRUNC: no_trunc = !val; break;
		case OPT_FORMAT: format = val; break;
		case OPT_LAST: {
			/* Docker: -1 (the default) changes nothing; 0 lists every box; N the N newest */
			char *end;
			long v = strtol(val, &end, 10);
			if (!*val || *end || v < -1 || v > 1000000) {
				bx_fail_code(&err, CLI_EXIT_BAD_FLAG, 0, "invalid argument \"%s\" for \"-n, --last\" flag", val);
				goto fail;
			}
			last = v > 0 ? (int)v : -1;
			all = all || v >= 0;
			break;
		}
		case OPT_FILTER:
			if (bx_box_filter_add(&filters, val, &err) < 0)
				goto fail;
			break;
		case OPT_HELP:
			bx_args_usage("boxvm ps [OPTIONS]", "List boxes.", ps_opts);
			bx_box_filters_free(&filters);
			return 0;
		}
	}
	if (r < 0)
		goto fail;
	if (a.i < argc) {
		bx_fail(&err, 0, "\"ps\" accepts no arguments (see boxvm ps --help)");
		goto fail;
	}
	if (format)
		quiet = false; /* Docker: a --format wins over -q */
	bool json_lines = format && !strcmp(format, "json");
	const char *table_tmpl = NULL;
	if (cli_table_format(format, &table_tmpl))
		format = NULL; /* "table" alone: the default columns */
	if (format && !json_lines && bx_template_check(format, &err) < 0)
		goto fail;
	if (table_tmpl && bx_template_check(table_tmpl, &err) < 0)
		goto fail;
	if (filters.statuses)
		all = true; /* Docker: a status filter looks at every box */
	struct bx_paths p;
	struct bx_box_record *boxes = NULL;
	size_t n = 0;
	if (bx_paths_init(&p, &err) < 0 || bx_state_list(&p, &boxes, &n, &err) < 0)
		goto fail;
	long long now = bx_real_ns();
	/* Docker's header, so that scripts reading it by name work */
	static const char *const header[] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"};
	struct cli_table table;
	cli_table_init(&table, 7);
	if (table_tmpl && !quiet) {
		json_t *titles = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "ID",
					   "CONTAINER ID", "Image", "IMAGE", "Command", "COMMAND", "CreatedAt", "CREATED AT",
					   "RunningFor", "CREATED", "Ports", "PORTS", "State", "STATE", "Status", "STATUS",
					   "Names", "NAMES", "Labels", "LABELS", "Size", "SIZE", "Mounts", "MOUNTS", "Networks",
					   "NETWORKS", "LocalVolumes", "LOCAL VOLUMES", "Label", label_titles(table_tmpl));
		cli_table_start(&table, table_tmpl, titles);
		json_decref(titles);
	} else if (!quiet && !format) {
		cli_table_add(&table, header);
	}
	int shown = 0;
	/* newest first, as Docker */
	for (size_t k = n; k-- > 0;) {
		const struct bx_box_record *b = &boxes[k];
		if (!all && !bx_box_status_live(b->status))
			continue;
		/* config.json is read once per box: the label filter, the LABELS
		 * column and {{.Label "k"}} all use its labels */
		json_t *cfg = filters.labels || !quiet ? config_of(b) : NULL;
		json_t *config = json_object_get(cfg, "Config");
		bx_docker_config_defaults(config, json_object()); /* its Labels sorted, as Docker's */
		json_t *labels = json_object_get(config, "Labels");
		if (!bx_box_filter_match(&filters, b, labels)) {
			json_decref(cfg);
			continue;
		}
		if (last >= 0 && shown >= last) {
			json_decref(cfg);
			break;
		}
		shown++;
		if (quiet) {
			printf("%.*s\n", no_trunc ? 64 : 12, b->id);
			json_decref(cfg);
			continue;
		}
		json_t *row = bx_box_ps_json(b, labels, no_trunc, now);
		if (!row) {
			json_decref(cfg);
			continue;
		}
		if (json_lines) {
			char *t = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
			if (t)
				printf("%s\n", t);
			free(t);
		} else if (format || table_tmpl) {
			/* {{.Label "k"}} reads this map (cli/template.h) */
			json_object_set_new(row, "Label", json_is_object(labels) ? json_incref(labels) : json_object());
			if (table_tmpl) {
				cli_table_add_rendered(&table, table_tmpl, row);
			} else {
				char *t = NULL;
				if (bx_template_render(format, row, &t, &err) == 0)
					printf("%s\n", t);
				free(t);
			}
		} else {
			const char *cells[7];
			static const char *const keys[] = {"ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"};
			for (size_t c = 0; c < 7; c++)
				cells[c] = json_string_value(json_object_get(row, keys[c]));
			cli_table_add(&table, cells);
		}
		json_decref(row);
		json_decref(cfg);
	}
	free(boxes);
	if (cli_table_flush(&table, stdout, &err) < 0)
		goto fail;
	bx_box_filters_free(&filters);
	return 0;
fail:
	bx_box_filters_free(&filters);
	rc = bx_cli_report(&err);
	return rc;
}
