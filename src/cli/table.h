/* Docker's listing tables (`ps`, `images`, `volume ls`): Go's tabwriter as
 * the docker client sets it up (minimum cell width 10, padding 3, spaces),
 * so scripts that cut Docker's columns cut ours the same way. */
#ifndef BOXVM_CLI_TABLE_H
#define BOXVM_CLI_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../common/err.h"

struct cli_table {
	size_t ncols, nrows;
	char **cells; /* nrows * ncols, malloc'd copies */
	bool failed;  /* a row could not be added (err says why): flush reports it */
	struct bx_err err;
};

void cli_table_init(struct cli_table *t, size_t ncols);
/* Append a row of ncols cells (copied). A failure (out of memory, a row
 * that does not render) is kept in the table and reported by flush, so
 * callers add rows without checking each. */
void cli_table_add(struct cli_table *t, const char *const *cells);
/* Append a row given as one line of tab-separated cells (a rendered `table`
 * --format line); cells beyond ncols stay in the last one. */
void cli_table_add_line(struct cli_table *t, const char *line);
/* Docker's "table TEMPLATE" --format: returns true for a format that starts
 * with the word table, *tmpl then the template after it (NULL: the default
 * columns). */
bool cli_table_format(const char *format, const char **tmpl);
/* Start a table whose rows are tmpl rendered and cut at tabs: the header is
 * tmpl rendered against titles (each field's column title, as Docker's). */
void cli_table_start(struct cli_table *t, const char *tmpl, json_t *titles);
/* Append tmpl rendered against row. */
void cli_table_add_rendered(struct cli_table *t, const char *tmpl, json_t *row);
/* Print every row: each column as wide as its widest cell (in characters)
 * plus 3, at least 10; the last column unpadded. Frees the table. Returns
 * -1 with err filled, printing nothing, if a row could not be added. */
int cli_table_flush(struct cli_table *t, FILE *out, struct bx_err *err);

#endif
