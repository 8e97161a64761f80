/* Docker's listing tables (`ps`, `images`, `volume ls`) (table.h). */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/err.h"
#include "template.h"

enum { MIN_WIDTH = 10, PADDING = 3 };

void cli_table_init(struct cli_table *t, size_t ncols)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->cells = NULL;
	t->failed = false;
}

/* the one out-of-memory policy: the listing fails, reported at flush */
static void fail(struct cli_table *t, int errnum, const char *what)
{
	if (!t->failed)
		bx_fail(&t->err, errnum, "cannot list the rows: %s", what);
	t->failed = true;
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
	if (t->failed)
		return;
	char **nc = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*nc));
	if (!nc) {
		fail(t, ENOMEM, "out of memory");
		return;
	}
	t->cells = nc;
	for (size_t c = 0; c < t->ncols; c++) {
		char *s = strdup(cells[c] ? cells[c] : "");
		if (!s) {
			while (c-- > 0)
				free(nc[t->nrows * t->ncols + c]);
			fail(t, ENOMEM, "out of memory");
			return;
		}
		nc[t->nrows * t->ncols + c] = s;
	}
	t->nrows++;
}

void cli_table_add_line(struct cli_table *t, const char *line)
{
	_cleanup_free_ char *copy = strdup(line);
	_cleanup_free_ const char **cells = calloc(t->ncols ? t->ncols : 1, sizeof(*cells));
	if (!copy || !cells) {
		fail(t, ENOMEM, "out of memory");
		return;
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
	_cleanup_free_ char *line = NULL;
	struct bx_err err;
	if (bx_template_render(tmpl, row, &line, &err) < 0) {
		if (!t->failed)
			t->err = err;
		t->failed = true;
		return;
	}
	cli_table_add_line(t, line);
}

void cli_table_start(struct cli_table *t, const char *tmpl, json_t *titles)
{
	_cleanup_free_ char *header = NULL;
	struct bx_err err;
	size_t ncols = 1;
	int rc = bx_template_render(tmpl, titles, &header, &err);
	if (rc == 0)
		for (const char *c = header; *c; c++)
			ncols += *c == '\t';
	cli_table_init(t, ncols);
	if (rc < 0) {
		t->err = err;
		t->failed = true;
		return;
	}
	cli_table_add_line(t, header);
}

/* characters, as Go's tabwriter counts them: UTF-8 continuation bytes don't count */
static size_t text_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void free_cells(struct cli_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

int cli_table_flush(struct cli_table *t, FILE *out, struct bx_err *err)
{
	_cleanup_free_ size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));
	if (!width)
		fail(t, ENOMEM, "out of memory");
	if (t->failed) {
		free_cells(t);
		if (err)
			*err = t->err;
		return -1;
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
		}
		fputc('\n', out);
	}
	free_cells(t);
	return 0;
}
