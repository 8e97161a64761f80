/* What every `inspect` command (box, image, volume) prints: Docker's indented
 * JSON array, or with -f TEMPLATE one rendered line per object. */
#ifndef BOXVM_CLI_INSPECT_OUT_H
#define BOXVM_CLI_INSPECT_OUT_H

#include <jansson.h>

#include "../common/err.h"
#include "../common/paths.h"

/* Check -f's template before anything is looked up; a template that does not
 * parse exits 64 (CLI_EXIT_BAD_TEMPLATE), as Docker's inspect commands do. */
int cli_inspect_format_check(const char *format, struct bx_err *err);
/* Print all (a JSON array of objects) as JSON, or each object through format
 * (NULL: JSON). */
void cli_inspect_print(json_t *all, const char *format);


#endif
