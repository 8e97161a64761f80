/* The one trace a --rm box leaves: when it exits non-zero, a bounded copy of
 * its log (the last BX_KEPTLOG_MAX_BYTES, whole lines) goes to
 * DATA/kept-logs/<id>.json.log with <id>.json (name, exit code, time), so
 * `boxvm logs ID|NAME` still shows why it failed. At most BX_KEPTLOG_MAX_COUNT
 * copies, none older than BX_KEPTLOG_MAX_AGE_S, pruned on every save and
 * lookup. */
#ifndef BOXVM_KEPTLOG_H
#define BOXVM_KEPTLOG_H

#include "../common/err.h"
#include "../common/paths.h"
#include "state.h"

#define BX_KEPTLOG_MAX_BYTES (1 << 20)
#define BX_KEPTLOG_MAX_COUNT 50
#define BX_KEPTLOG_MAX_AGE_S (7 * 24 * 3600)

int bx_keptlog_save(const struct bx_paths *p, const struct bx_box_record *r, struct bx_err *err);
/* Find a kept log by name, full ID or unique ID prefix; path of the log. */
int bx_keptlog_find(const struct bx_paths *p, const char *ref, char *path, size_t size, struct bx_err *err);
void bx_keptlog_prune(const struct bx_paths *p);

#endif
