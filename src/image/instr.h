/* Dockerfile instructions as `commit -c` / `import -c` take them (and as a
 * Dockerfile parser will reuse): one instruction's keyword and arguments,
 * the JSON exec form and the shell form, Docker's word rules for ENV and
 * LABEL ("K=V" pairs with quotes and backslashes, or the legacy "K V"
 * form), and applying one to an image config's "config" object. Pure. */
#ifndef BOXVM_IMAGE_INSTR_H
#define BOXVM_IMAGE_INSTR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"

#define BX_INSTR_MAX (64u << 10) /* bytes of one instruction */

struct bx_instr {
	char keyword[16];   /* upper-cased: "CMD" */
	char *rest;         /* the text after the keyword, trimmed */
	char **args;        /* the words (exec form: the JSON strings; shell form: one word, the text) */
	size_t nargs;
	bool json;          /* exec form ["a","b"] */
};

/* Parse "KEYWORD ARGS". Exec form is tried for every keyword and falls back
 * to the shell form when the text is not a JSON string array (as Docker). */
int bx_instr_parse(const char *line, struct bx_instr *out, struct bx_err *err);
void bx_instr_free(struct bx_instr *in);

/* Split Docker-style words: whitespace separated, "..." and '...' quoted,
 * backslash escapes; quotes removed. */
int bx_instr_words(const char *text, char ***out, size_t *n, struct bx_err *err);

/* Apply a `commit -c` change to config (the image config's "config"
 * object): CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME,
 * WORKDIR; anything else: "KEYWORD is not a valid change command". */
int bx_instr_apply_change(json_t *config, const struct bx_instr *in, struct bx_err *err);

/* A Dockerfile's config instruction: the changes above plus STOPSIGNAL,
 * SHELL, HEALTHCHECK (its --interval/--timeout/--start-period/--retries
 * from flags, "name=value" lines) and MAINTAINER (no config change). */
int bx_instr_apply_build(json_t *config, const struct bx_instr *in, const char *flags, struct bx_err *err);

/* ENV's or LABEL's pairs as Docker writes them into history: "K=V K2=V2"
 * (quotes and escapes resolved); NULL (err) when they are not pairs. */
char *bx_instr_pairs_text(const struct bx_instr *in, struct bx_err *err);

#endif
