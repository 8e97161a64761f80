/* How a box's -v/--tmpfs mounts are shown by inspect, in Docker's shapes
 * (pure): Mounts (binds and volumes with Docker's fields), HostConfig.Binds
 * (the -v flags with a source), Config.Volumes (anonymous volumes' targets)
 * and HostConfig.Tmpfs (target: options). Recorded in config.json at create. */
#ifndef BOXVM_MOUNTS_VIEW_H
#define BOXVM_MOUNTS_VIEW_H

#include <jansson.h>

#include "../vm/mounts.h"

/* {"Mounts": [...], "Binds": [...]|null, "Volumes": {...}|null, "Tmpfs": {...}|null}
 * for requests m (in mount order) resolved into shares (bx_mounts_resolve:
 * one share per non-tmpfs request, in the same order). NULL: out of memory. */
json_t *bx_mounts_docker_json(const struct bx_mount_req *m, size_t n, const struct bx_share *shares, int nshares);

#endif
