/* Docker's listing tables (`ps`, `images`, `volume ls`): Go's tabwriter as
 * the docker client sets it up (minimum cell width 10, padding 3, spaces),
 * so scripts that cut Docker's columns cut ours the same way. */
#ifndef BOXVM_CLI_TABLE_H
#define BOXVM_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct cli_table {
	size_t ncols, nrows;
	char **cells; /* nrows * ncols, malloc'd copies */
};

void cli_table_init(struct cli_table *t, size_t ncols);
/* Append a row of ncols cells (copied; exits on OOM: CLI only). */
void cli_table_add(struct cli_table *t, const char *const *cells);
/* Print every row: each column as wide as its widest cell (in characters)
 * plus 3, at least 10; the last column unpadded. Frees the table. */
void cli_table_flush(struct cli_table *t, FILE *out);

#endif
