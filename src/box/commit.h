/* Image authoring from a box (Docker's diff, commit, export): the box's
 * changes as an overlayfs upper dir over its image's rootfs-cache entry,
 * read on the host. A running box is paused during a commit (unless told
 * not to) and thawed after; a stopped one has its start held off meanwhile,
 * so no VM writes what is read. A box whose root is a private copy (no
 * overlayfs) is compared with its image's tree instead. */
#ifndef BOXVM_BOX_COMMIT_H
#define BOXVM_BOX_COMMIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../image/changes.h"
#include "../image/image.h"

int bx_box_changes(const struct bx_paths *p, const char *ref, struct bx_change **out, size_t *n, struct bx_err *err);

struct bx_commit_opts {
	const char *repo_tag;    /* NULL: untagged */
	const char *comment;     /* -m */
	const char *author;      /* -a */
	bool pause;              /* -p (default true) */
	char *const *changes;    /* -c instructions, NULL-terminated (may be NULL) */
	json_t *config;          /* a build's RUN: the image config's "config" as is (NULL: the box's, as commit) */
	const char *created_by;  /* a build's RUN: the history entry (NULL: the box's command line) */
};
int bx_box_commit(const struct bx_paths *p, const char *ref, const struct bx_commit_opts *o, char id[BX_DIGEST_SIZE],
		  struct bx_err *err);

/* The box's whole filesystem (the merged view) as a flat tar to out_fd. */
int bx_box_export(const struct bx_paths *p, const char *ref, int out_fd, struct bx_err *err);

#endif
