/* The subset of Go templates Docker users write in --format (pure):
 *   {{.Field}}  {{.A.B}}  {{ .Field }}  {{json .Field}}  {{json .}}
 *   {{index .Map "key"}}  {{join .List "sep"}}  {{.Method "arg"}}
 * against a JSON object; "\t" and "\n" written literally become tab and
 * newline, as in Docker. Values print as Go's fmt does: strings raw, lists
 * "[a b]", maps "map[k:v]" (sorted keys), a null field "[]" (or "map[]" for
 * Docker's map-typed fields such as Labels), as Docker's typed nil slices and
 * maps print. {{.Method "arg"}} (Docker's `{{.Label "k"}}`) reads member
 * "arg" of the object field Method; it and index print nothing for a key
 * that is not there. */
#ifndef BOXVM_TEMPLATE_H
#define BOXVM_TEMPLATE_H

#include <jansson.h>

#include "../common/err.h"

/* Check fmt once (bad syntax or an unknown function: one-line error). */
int bx_template_check(const char *fmt, struct bx_err *err);
/* Render into *out (malloc'd). A field that does not exist renders
 * "<no value>", as Go does for a map. */
int bx_template_render(const char *fmt, json_t *obj, char **out, struct bx_err *err);
/* The same where obj has the JSON names of a Go struct's fields (Docker's
 * events: "time", "status", "id"): {{.Time}} finds "time" (a key that
 * differs only in case), as Go's template finds the field, and a field
 * JSON leaves out when empty (a volume event's "status") prints empty. */
int bx_template_render_fold(const char *fmt, json_t *obj, char **out, struct bx_err *err);

#endif
