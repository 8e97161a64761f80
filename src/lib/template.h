/* The subset of Go templates Docker users write in --format (pure):
 *   {{.Field}}  {{.A.B}}  {{ .Field }}  {{json .Field}}  {{json .}}
 * against a JSON object; "\t" and "\n" written literally become tab and
 * newline, as in Docker. Strings print raw, other values as compact JSON. */
#ifndef BOXVM_TEMPLATE_H
#define BOXVM_TEMPLATE_H

#include <jansson.h>

#include "err.h"

/* Check fmt once (bad syntax or an unknown function: one-line error). */
int bx_template_check(const char *fmt, struct bx_err *err);
/* Render into *out (malloc'd). A field that does not exist renders
 * "<no value>", as Go does for a map. */
int bx_template_render(const char *fmt, json_t *obj, char **out, struct bx_err *err);

#endif
