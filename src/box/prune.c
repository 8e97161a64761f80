/* Docker's container prune (prune.h). */
#include "prune.h"

#include <errno.h>
#include <stdlib.h>

#include "../image/rootfs.h"

static json_t *box_labels(const struct bx_box_record *r, json_t **cfg)
{
	char path[PATH_MAX];
	*cfg = bx_path_join(path, sizeof(path), NULL, "%s/config.json", r->box_dir) == 0 ? json_load_file(path, 0, NULL)
											 : NULL;
	return json_object_get(json_object_get(*cfg, "Config"), "Labels");
}

void bx_box_prune(const struct bx_paths *p, const struct bx_box_prune_cb *cb)
{
	struct bx_err err = {0};
	struct bx_box_record *boxes = NULL;
	size_t n = 0;
	if (bx_state_list(p, &boxes, &n, &err) < 0) {
		cb->failed(cb->ctx, &err);
		return;
	}
	for (size_t k = n; k-- > 0;) { /* newest first, as Docker lists them */
		struct bx_box_record *r = &boxes[k];
		if (r->status != BX_BOX_CREATED && r->status != BX_BOX_EXITED)
			continue;
		json_t *cfg = NULL;
		bool match = cb->pick(cb->ctx, r, box_labels(r, &cfg));
		json_decref(cfg);
		if (!match)
			continue;
		long long bytes = bx_rootfs_rw_bytes(r->box_dir);
		if (bx_state_remove(p, r, &err) < 0) {
			if (err.errnum != EBUSY) /* EBUSY: started meanwhile, so no longer ours to prune */
				cb->failed(cb->ctx, &err);
			continue;
		}
		cb->removed(cb->ctx, r->id, bytes);
	}
	free(boxes);
}
