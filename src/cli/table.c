/* Docker's listing tables (`ps`, `images`, `volume ls`) (table.h). */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "template.h"

enum { MIN_WIDTH = 10, PADDING = 3 };

void cli_table_init(struct cli_table *t, size_t ncols)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->cells = NULL;
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
	char **nc = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*nc));
	if (!nc) {
		fprintf(stderr, "boxvm: out of memory\n");
		exit(BX_EXIT_ERROR);
	}
	t->cells = nc;
	for (size_t c = 0; c < t->ncols; c++) {
		char *s = strdup(cells[c] ? cells[c] : "");
		if (!s) {
			fprintf(stderr, "boxvm: out of memory\n");
			exit(BX_EXIT_ERROR);
		}
		nc[t->nrows * t->ncols + c] = s;
	}
	t->nrows++;
}

void cli_table_add_line(struct cli_table *t, const char *line)
{
	char *copy = strdup(line);
	const char **cells = calloc(t->ncols ? t->ncols : 1, sizeof(*cells));
	if (!copy || !cells) {
		fprintf(stderr, "boxvm: out of memory\n");
		exit(BX_EXIT_ERROR);
	}
	char *p = copy;
	for (size_t c = 0; c < t->ncols; c++) {
		cells[c] = p ? p : "";
		char *tab = p && c + 1 < t->ncols ? strchr(p, '\t') : NULL;
		if (tab)
			*tab = '\0';
		p = tab ? tab + 1 : NULL;
	}
	cli_table_add(t, cells);
	free(cells);
	free(copy);
}

bool cli_table_format(const char *format, const char **tmpl)
{
	*tmpl = NULL;
	if (!format || strncmp(format, "table", 5) || (format[5] && format[5] != ' ' && format[5] != '\t'))
		return false;
	const char *rest = format + 5;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	*tmpl = *rest ? rest : NULL;
	return true;
}

void cli_table_add_rendered(struct cli_table *t, const char *tmpl, json_t *row)
{
	char *line = NULL;
	if (bx_template_render(tmpl, row, &line, NULL) == 0)
		cli_table_add_line(t, line);
	free(line);
}

void cli_table_start(struct cli_table *t, const char *tmpl, json_t *titles)
{
	char *header = NULL;
	size_t ncols = 1;
	if (bx_template_render(tmpl, titles, &header, NULL) == 0)
		for (const char *c = header; *c; c++)
			ncols += *c == '\t';
	cli_table_init(t, ncols);
	cli_table_add_line(t, header ? header : "");
	free(header);
}

/* characters, as Go's tabwriter counts them: UTF-8 continuation bytes don't count */
static size_t text_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

void cli_table_flush(struct cli_table *t, FILE *out)
{
	size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));
	if (!width) {
		fprintf(stderr, "boxvm: out of memory\n");
		exit(BX_EXIT_ERROR);
	}
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c + 1 < t->ncols; c++) {
			size_t w = text_width(t->cells[r * t->ncols + c]) + PADDING;
			if (w > width[c])
				width[c] = w;
		}
	for (size_t c = 0; c < t->ncols; c++)
		if (width[c] < MIN_WIDTH)
			width[c] = MIN_WIDTH;
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			fputs(s, out);
			if (c + 1 < t->ncols)
				fprintf(out, "%*s", (int)(width[c] - text_width(s)), "");
			free(t->cells[r * t->ncols + c]);
		}
		fputc('\n', out);
	}
	free(width);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}
