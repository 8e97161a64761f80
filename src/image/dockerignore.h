/* A build context's .dockerignore, with Docker's pattern rules: one pattern
 * a line, '#' comments and blank lines skipped, each cleaned (a leading '/'
 * and "./" dropped), '*', '?' and '[...]' within a path component, "**"
 * across any number of them, a pattern that matches a directory excluding
 * everything under it, and a '!' line re-including what it matches; the
 * last pattern that matches a path decides. Pure. */
#ifndef BOXVM_IMAGE_DOCKERIGNORE_H
#define BOXVM_IMAGE_DOCKERIGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"

#define BX_DOCKERIGNORE_MAX (256u << 10) /* bytes of a .dockerignore */

struct bx_ignore {
	char **pat;    /* cleaned patterns */
	bool *negate;  /* a '!' line */
	size_t n;
	bool any_negate;
};

int bx_ignore_parse(const char *text, size_t len, struct bx_ignore *out, struct bx_err *err);
void bx_ignore_free(struct bx_ignore *ig);
/* path: relative to the context, '/'-separated, no leading "/" or "./" */
bool bx_ignore_match(const struct bx_ignore *ig, const char *path);
/* One glob (the same component rules) against a whole path: COPY's sources. */
bool bx_glob_match(const char *pattern, const char *path);

#endif
