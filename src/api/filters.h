/* The ?filters= of GET /containers/json: Docker's JSON, {"KEY":["V",...]}
 * (or the old {"KEY":{"V":true}}), into `ps --filter KEY=V` (box_view.h).
 * Pure, unit-tested. */
#ifndef BOXVM_API_FILTERS_H
#define BOXVM_API_FILTERS_H

#include "../box/box_view.h"
#include "../common/err.h"

int api_filters_parse(const char *text, struct bx_box_filters *f, struct bx_err *err);

#endif
