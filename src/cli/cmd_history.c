/* boxvm history [--no-trunc] [-q] [-H=false] [--format json|TEMPLATE] IMAGE:
 * Docker's columns (IMAGE CREATED CREATED BY SIZE COMMENT) of the rows the
 * Engine API serves too (src/image/image_history.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../box/box_view.h"
#include "../image/image_history.h"
#include "args.h"
#include "cli.h"
#include "stats_view.h"
#include "table.h"
#include "template.h"

/* Docker's stringutils.Ellipsis: at most max characters, the last one "…" when cut */
static void ellipsis(const char *s, size_t max, char *out, size_t size)
{
	size_t chars = 0, i = 0, cut = 0;
	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars == max)
			cut = i; /* where the max-th character starts */
	if (chars <= max) {
		snprintf(out, size, "%s", s);
		return;
	}
	snprintf(out, size, "%.*s…", (int)cut, s);
}

static void created_text(long long created, bool human, char *out, size_t size)
{
	if (!human) {
		struct tm tm;
		time_t t = (time_t)created;
		gmtime_r(&t, &tm);
		strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	char d[48];
	bx_human_duration(((long long)time(NULL) - created) * 1000000000LL, d, sizeof(d));
	snprintf(out, size, "%.48s ago", d);
}

int cmd_history(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	bool no_trunc = false, quiet = false, human = true;
	const char *format = NULL;
	const struct bx_opt opts[] = {
		{'H', "human", NULL, 0, "Print sizes and dates in human readable format (default true)", .on = &human},
		{0, "no-trunc", NULL, 0, "Don't truncate output", .on = &no_trunc},
		{'q', "quiet", NULL, 0, "Only show image IDs", .on = &quiet},
		{0, "format", "string", 0, "Pretty-print history using a Go template (\"json\": one object per line)",
		 .str = &format},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm history [OPTIONS] IMAGE", "Show the history of an image", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, 1, "boxvm history [OPTIONS] IMAGE", &err) < 0)
		return bx_cli_report(&err);
	const char *tmpl = NULL;
	bool json = format && !strcmp(format, "json"), table = format && cli_table_format(format, &tmpl);
	if (format && !json && !table && bx_template_check(format, &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	struct bx_image img;
	if (bx_paths_init(&p, &err) < 0 || bx_image_lookup(&p, argv[a.i], &img, &err) < 0)
		return bx_cli_report(&err);
	json_t *rows = bx_image_history(&p, &img, &err);
	bx_image_free(&img);
	if (!rows)
		return bx_cli_report(&err);
	struct cli_table t;
	cli_table_init(&t, 5);
	bool plain = !format || (table && !tmpl);
	if (plain && !quiet) {
		const char *head[] = {"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"};
		if (!human)
			head[1] = "CREATED AT";
		cli_table_add(&t, head);
	} else if (table && tmpl && !quiet) {
		json_t *titles = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ID", "IMAGE", "CreatedSince", "CREATED",
					   "CreatedAt", "CREATED AT", "CreatedBy", "CREATED BY", "Size", "SIZE", "Comment",
					   "COMMENT", "Tags", "TAGS");
		cli_table_start(&t, tmpl, titles);
		json_decref(titles);
	}
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *id = json_string_value(json_object_get(row, "Id"));
		char shown[80], by[4096], size[32], since[64], at[64];
		const char *hex = !strncmp(id, "sha256:", 7) ? id + 7 : id;
		snprintf(shown, sizeof(shown), "%s", no_trunc || !strcmp(id, "<missing>") ? id : hex);
		if (!no_trunc && strcmp(id, "<missing>"))
			shown[12] = '\0';
		if (quiet) {
			printf("%s\n", shown);
			continue;
		}
		long long created = json_integer_value(json_object_get(row, "Created"));
		long long bytes = json_integer_value(json_object_get(row, "Size"));
		const char *cb = json_string_value(json_object_get(row, "CreatedBy"));
		char tabless[4096];
		snprintf(tabless, sizeof(tabless), "%s", cb ? cb : "");
		for (char *c = tabless; *c; c++)
			if (*c == '\t')
				*c = ' ';
		if (no_trunc)
			snprintf(by, sizeof(by), "%s", tabless);
		else
			ellipsis(tabless, 45, by, sizeof(by));
		if (human)
			cli_size_decimal((double)bytes, size, sizeof(size));
		else
			snprintf(size, sizeof(size), "%lld", bytes);
		created_text(created, true, since, sizeof(since));
		created_text(created, false, at, sizeof(at));
		const char *comment = json_string_value(json_object_get(row, "Comment"));
		if (plain) {
			const char *cells[] = {shown, human ? since : at, by, size, comment ? comment : ""};
			cli_table_add(&t, cells);
			continue;
		}
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "ID", shown, "CreatedSince", since, "CreatedAt", at,
				      "CreatedBy", by, "Size", size, "Comment", comment ? comment : "");
		char *s = NULL;
		if (table)
			cli_table_add_rendered(&t, tmpl, o);
		else if (json)
			s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		else if (bx_template_render(format, o, &s, &err) < 0) {
			json_decref(o);
			json_decref(rows);
			return bx_cli_report(&err);
		}
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	json_decref(rows);
	return cli_table_flush(&t, stdout, &err) < 0 ? bx_cli_report(&err) : 0;
}
