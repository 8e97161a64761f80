/* The ?filters= of GET /containers/json: Docker's JSON, {"KEY":["V",...]}
 * (or the old {"KEY":{"V":true}}), into `ps --filter KEY=V` (box_view.h).
 * Pure, unit-tested. */
#ifndef BOXVM_API_FILTERS_H
#define BOXVM_API_FILTERS_H

#include "../box/box_view.h"
#include "../common/err.h"

/* Calls fn for every KEY and VALUE of Docker's filters JSON, in order;
 * stops at fn's -1. A text that is not such JSON: -1 (a 400, api_bad). */
int api_filters_each(const char *text, int (*fn)(const char *key, const char *val, void *ctx, struct bx_err *err),
		     void *ctx, struct bx_err *err);
int api_filters_parse(const char *text, struct bx_box_filters *f, struct bx_err *err);

#endif
