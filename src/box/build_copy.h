/* A build's COPY and ADD: the layer made on the host, straight from the
 * context directory (no VM): the sources resolved inside the context (no
 * ".." out of it, no symlink followed on the way: one named is copied as a
 * symlink), globs matched over the context, .dockerignore'd paths left out,
 * a directory's contents (not the directory) copied, a local tar extracted
 * by ADD, everything owned root:root unless --chown, placed under the
 * destination in a staging tree whose tar is the layer. The parents of the
 * destination keep the owner and mode the stage's tree gives them. */
#ifndef BOXVM_BOX_BUILD_COPY_H
#define BOXVM_BOX_BUILD_COPY_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../image/dockerignore.h"
#include "../image/layer_write.h"

struct bx_build_context {
	int root_fd;             /* the context directory */
	struct bx_ignore ignore; /* its .dockerignore */
};

struct bx_copy_req {
	char *const *srcs;       /* as written (after substitution), relative to the context */
	size_t nsrcs;
	const char *dest;        /* absolute (WORKDIR applied by the caller) */
	uid_t uid;               /* --chown, else 0:0 */
	gid_t gid;
	bool add;                /* ADD: a local tar is extracted */
	int base_fd;             /* the stage's tree (its rootfs-cache entry), -1: scratch */
};

/* The layer (uncommitted: see layer_write.h); *kind "file" or "dir" for the
 * history line, as Docker's "COPY file:<digest> in /dest". */
int bx_build_copy_layer(const struct bx_paths *p, const struct bx_build_context *c, const struct bx_copy_req *r,
			struct bx_new_layer *out, const char **kind, struct bx_err *err);

/* --chown=USER[:GROUP]: numbers as they are, names from the stage tree's
 * /etc/passwd and /etc/group (a user without a group: the same number as
 * the GID, as Docker). */
int bx_build_chown(int base_fd, const char *spec, uid_t *uid, gid_t *gid, struct bx_err *err);

#endif
