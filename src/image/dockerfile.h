/* A Dockerfile's text as the classic builder reads it: parser directives at
 * the top (`# escape=` honoured, `# syntax=` ignored), comment and blank
 * lines dropped, lines continued by the escape character joined, and each
 * instruction split into its keyword and arguments by instr.h (bounded:
 * BX_DOCKERFILE_MAX bytes, BX_DOCKERFILE_MAX_STEPS instructions). An unknown
 * instruction is an error naming its line, in Docker's words. Pure. */
#ifndef BOXVM_IMAGE_DOCKERFILE_H
#define BOXVM_IMAGE_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "instr.h"

#define BX_DOCKERFILE_MAX (1u << 20)   /* bytes of a Dockerfile */
#define BX_DOCKERFILE_MAX_STEPS 1024u  /* instructions in one */

struct bx_df_step {
	unsigned line;      /* where the instruction starts (1-based) */
	struct bx_instr in; /* keyword upper-cased; rest: the joined text after it */
	char written[16];   /* the keyword as the Dockerfile writes it ("run"): Docker's "Step" line shows it */
	char *flags;        /* leading --name=value flags (COPY --chown=..., --from=...), NULL: none; not in in.rest */
};

struct bx_dockerfile {
	struct bx_df_step *steps;
	size_t n;
	char escape;       /* '\\' or '`' */
	bool syntax_given; /* a `# syntax=` directive was there (ignored) */
};

int bx_dockerfile_parse(const char *text, size_t len, struct bx_dockerfile *out, struct bx_err *err);
void bx_dockerfile_free(struct bx_dockerfile *df);

/* The value of flag name ("chown") in a step's flags, copied to out; 1 when
 * there, 0 when not, -1 (err) when the flags hold one the keyword does not take. */
int bx_df_flag(const struct bx_df_step *s, const char *name, char *out, size_t size, struct bx_err *err);

/* An ONBUILD trigger's keyword (upper- or lower-case) as Docker allows it:
 * not ONBUILD ("Chaining ONBUILD ..."), FROM or MAINTAINER. Checked when a
 * Dockerfile's ONBUILD is parsed and again for each trigger a base image
 * brings (hostile: any text can be in an image's config). */
int bx_df_trigger_allowed(const char *keyword, struct bx_err *err);

/* --target: *end is the index of the first step after the stage named
 * target (its `FROM ... AS name`, compared case-insensitively as Docker);
 * the steps before it are the build. Not there: Docker's "failed to reach
 * build target X in Dockerfile". */
int bx_df_target_end(const struct bx_dockerfile *df, const char *target, size_t *end, struct bx_err *err);

/* Substitute $NAME, ${NAME}, ${NAME:-word} and ${NAME:+word} in text from
 * vars ("K=V" strings, the last of a key wins), escape char escaping '$'. */
int bx_df_expand(const char *text, char escape, char *const *vars, size_t nvars, char **out, struct bx_err *err);

#endif
