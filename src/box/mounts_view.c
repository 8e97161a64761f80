/* How a box's -v/--tmpfs mounts are shown by inspect, in Docker's shapes (pure) (mounts_view.h). */
#include "mounts_view.h"

#include <stdio.h>

/* Docker: a named volume's Mode is "z" unless :ro was given; an anonymous
 * one's is ""; a bind's is its :ro. Propagation is Docker's default for a
 * bind (a box's mounts do not propagate either way: they are virtiofs
 * shares) and "" for a volume. */
static json_t *mount_json(const struct bx_mount_req *r, const struct bx_share *sh)
{
	if (r->kind == BX_MNT_BIND)
		return json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "Type", "bind", "Source", r->source, "Destination",
				 r->target, "Mode", r->ro ? "ro" : "", "RW", !r->ro, "Propagation", "rprivate");
	const char *mode = r->ro ? "ro" : r->source[0] ? "z" : "";
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "Type", "volume", "Name", sh->volume, "Source", sh->source,
			 "Destination", r->target, "Driver", "local", "Mode", mode, "RW", !r->ro, "Propagation", "");
}

json_t *bx_mounts_docker_json(const struct bx_mount_req *m, size_t n, const struct bx_share *shares, int nshares)
{
	json_t *mounts = json_array(), *binds = json_array(), *volumes = json_object(), *tmpfs = json_object();
	int k = 0;
	for (size_t i = 0; i < n && mounts && binds && volumes && tmpfs; i++) {
		const struct bx_mount_req *r = &m[i];
		if (r->kind == BX_MNT_TMPFS) {
			json_object_set_new(tmpfs, r->target, json_string(r->options));
			continue;
		}
		if (k >= nshares)
			break;
		json_array_append_new(mounts, mount_json(r, &shares[k++]));
		if (r->source[0]) {
			char bind[2 * PATH_MAX + 8];
			snprintf(bind, sizeof(bind), "%s:%s%s", r->source, r->target, r->ro ? ":ro" : "");
			json_array_append_new(binds, json_string(bind));
		} else {
			json_object_set_new(volumes, r->target, json_object());
		}
	}
	/* Docker's nil slices and maps: null when empty */
	return json_pack("{s:o,s:o,s:o,s:o}", "Mounts", mounts ? mounts : json_array(), "Binds",
			 json_array_size(binds) ? binds : (json_decref(binds), json_null()), "Volumes",
			 json_object_size(volumes) ? volumes : (json_decref(volumes), json_null()), "Tmpfs",
			 json_object_size(tmpfs) ? tmpfs : (json_decref(tmpfs), json_null()));
}
