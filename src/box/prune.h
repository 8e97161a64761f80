/* Docker's container prune, for every front end (`boxvm container prune`,
 * the API's POST /containers/prune): each box that is created or exited
 * and that the caller picks is removed, newest first. */
#ifndef BOXVM_BOX_PRUNE_H
#define BOXVM_BOX_PRUNE_H

#include <jansson.h>
#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../store/state.h"

struct bx_box_prune_cb {
	/* labels: the box's Config.Labels (may be NULL) */
	bool (*pick)(void *ctx, const struct bx_box_record *r, json_t *labels);
	void (*removed)(void *ctx, const char *id, long long bytes);
	void (*failed)(void *ctx, struct bx_err *err);
	void *ctx;
};
/* A box started meanwhile is no longer the prune's (skipped, no failure). */
void bx_box_prune(const struct bx_paths *p, const struct bx_box_prune_cb *cb);

#endif
