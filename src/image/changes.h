/* A box's filesystem changes, as Docker's overlay2 driver lists them
 * (`docker diff`, GET /containers/ID/changes): the upper dir walked in
 * filepath.Walk order; a whiteout or an opaque directory is a deletion, a
 * path the lower tree has is a change (a directory only when its mode or
 * owner differ: one copied up because something under it changed is not),
 * anything else an addition, and the parent of an addition or deletion is
 * listed as changed right before it unless it already was. */
#ifndef BOXVM_IMAGE_CHANGES_H
#define BOXVM_IMAGE_CHANGES_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"

enum bx_change_kind { BX_CHANGE_MODIFY = 0, BX_CHANGE_ADD = 1, BX_CHANGE_DELETE = 2 }; /* Docker's Kind numbers */

struct bx_change {
	char *path; /* absolute, "/etc/passwd" */
	enum bx_change_kind kind;
};

/* The changes of upper_fd over lower_fd; copy: upper_fd is a whole copy of
 * the lower tree (a box without overlayfs), compared entry by entry. */
int bx_changes(int upper_fd, int lower_fd, bool copy, struct bx_change **out, size_t *n, struct bx_err *err);
void bx_changes_free(struct bx_change *c, size_t n);
/* 'C', 'A' or 'D' */
char bx_change_letter(enum bx_change_kind k);

#endif
