/* The ?filters= of the volume, network and event endpoints: Docker's JSON
 * {"KEY":["V",...]} (or the old {"KEY":{"V":true}}) as an object of string
 * arrays, checked against the keys the endpoint takes (Docker's "Invalid
 * filter 'KEY'", a 400). Pure, unit-tested. */
#ifndef BOXVM_API_FILTERMAP_H
#define BOXVM_API_FILTERMAP_H

#include <jansson.h>
#include <stdbool.h>

#include "../common/err.h"

/* *out: a new object KEY -> [strings] ({} for no text); allowed: the keys
 * taken (NULL-terminated). -1 with err (errnum EINVAL) otherwise. */
int api_filtermap_parse(const char *text, const char *const *allowed, json_t **out, struct bx_err *err);
/* The values given for key (NULL: none). */
json_t *api_filtermap_get(const json_t *map, const char *key);
/* Docker's label= rule: every value, KEY or KEY=VALUE, is in labels (an
 * object of strings; NULL: none). */
bool api_filtermap_labels(const json_t *map, const json_t *labels);
/* The prunes' label rule: label= as above, and label!= (KEY or KEY=VALUE)
 * leaves out what matches every one of its values. */
bool api_filtermap_prune_labels(const json_t *map, const json_t *labels);
/* true when key is not given, or one of its values equals s (prefix: or
 * begins it). */
bool api_filtermap_any(const json_t *map, const char *key, const char *s, bool prefix);
/* Docker's booleans of a filter value: "true"/"1", "false"/"0"; -1 otherwise. */
int api_filtermap_bool(const char *v);
/* The prunes' until= as the docker CLI passes it: unix seconds (a fraction
 * allowed), a Go duration back from now, or an RFC 3339 UTC time -> unix ns. */
int api_filter_until_ns(const char *val, long long *ns, struct bx_err *err);

#endif
