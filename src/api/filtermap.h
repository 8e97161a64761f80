/* The ?filters= of the volume, network and event endpoints: Docker's JSON
 * {"KEY":["V",...]} (or the old {"KEY":{"V":true}}) as an object of string
 * arrays, checked against the keys the endpoint takes (Docker's "Invalid
 * filter 'KEY'", a 400). Pure, unit-tested. */
#ifndef BOXVM_API_FILTERMAP_H
#define BOXVM_API_FILTERMAP_H

#include <jansson.h>
#include <stdbool.h>

#include "../common/err.h"
#include "../store/prune_filter.h"

/* *out: a new object KEY -> [strings] ({} for no text); allowed: the keys
 * taken (NULL-terminated). -1 with err (errnum EINVAL) otherwise. */
int api_filtermap_parse(const char *text, const char *const *allowed, json_t **out, struct bx_err *err);
/* The values given for key (NULL: none). */
json_t *api_filtermap_get(const json_t *map, const char *key);
/* Docker's label= rule: every value, KEY or KEY=VALUE, is in labels (an
 * object of strings; NULL: none). */
bool api_filtermap_labels(const json_t *map, const json_t *labels);
/* true when key is not given, or one of its values equals s (prefix: or
 * begins it). */
bool api_filtermap_any(const json_t *map, const char *key, const char *s, bool prefix);
/* Docker's booleans of a filter value: "true"/"1", "false"/"0"; -1 otherwise. */
int api_filtermap_bool(const char *v);
/* The ?filters= of a prune: keys checked against keys (Docker's "Invalid
 * filter 'KEY'"), then every value into f and checked by the rules the CLI's
 * prunes use (allowed: BX_PRUNE_* of store/prune_filter.h). -1 with err
 * (errnum EINVAL: a 400) and f freed, else f for bx_prune_filter_free. */
int api_prune_filter(const char *text, const char *const *keys, unsigned allowed, struct bx_prune_filter *f,
		     struct bx_err *err);

#endif
