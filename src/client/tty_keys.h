/* Docker's detach keys (default Ctrl-P Ctrl-Q): parsing "ctrl-p,ctrl-q" and
 * scanning terminal input for the sequence. Pure logic. */
#ifndef BOXVM_CLI_TTY_KEYS_H
#define BOXVM_CLI_TTY_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define BX_DETACH_DEFAULT "ctrl-p,ctrl-q"
#define BX_DETACH_MAX 16

struct bx_detach {
	uint8_t keys[BX_DETACH_MAX];
	size_t n;       /* 0: detaching is off */
	size_t matched; /* keys[0..matched) seen and held back */
};

/* Comma-separated keys, each one character or ctrl-<c> where c is a letter
 * or one of @[\]^_ (Docker's syntax). "" turns detaching off. */
int bx_detach_parse(const char *spec, struct bx_detach *d, struct bx_err *err);

/* Scan input: the bytes to forward go to out (room for len + BX_DETACH_MAX)
 * and their count is returned. A partial match is held back until it either
 * completes (*detached = true; the rest of in is dropped) or breaks (the
 * held bytes are forwarded, as typed). */
size_t bx_detach_scan(struct bx_detach *d, const uint8_t *in, size_t len, uint8_t *out, bool *detached);

/* Held bytes of an unfinished match (at end of input): copied to out, count returned. */
size_t bx_detach_flush(struct bx_detach *d, uint8_t *out);

#endif
