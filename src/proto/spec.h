/* Process spec: what to run and how, shared by host and guest.
 * Used for the main process (file /boxvm/spec in the per-box initramfs
 * segment) and for exec requests (payload of BX_M_REQ).
 *
 * Encoding: repeated records  u16 tag | u32 len | bytes  (LE), in any order;
 * unknown tags are an error (host and guest ship together). Strings are not
 * NUL-terminated on the wire. */
#ifndef BOXVM_SPEC_H
#define BOXVM_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/err.h"

enum bx_spec_tag {
	BX_T_ARG = 1,        /* repeated: argv[i] */
	BX_T_ENV = 2,        /* repeated: "KEY=VALUE" */
	BX_T_CWD = 3,        /* working directory ("" = image default "/") */
	BX_T_USER = 4,       /* "name", "uid", "uid:gid", "name:group" ("" = root) */
	BX_T_TTY = 5,        /* u8 0/1 */
	BX_T_STDIN = 6,      /* u8 0/1: host will send stdin; else /dev/null */
	BX_T_HOSTNAME = 7,   /* box only */
	BX_T_ACCEPT_DELAY_MS = 8, /* box only, test knob: u32, delay serving the mux */
	BX_T_TIMEOUT_MS = 9, /* u32: kill the process after this long (0 = none) */
	BX_T_MAX = 9,
};

struct bx_spec {
	char **args;   /* NULL-terminated */
	size_t nargs;
	char **env;    /* NULL-terminated */
	size_t nenv;
	char *cwd;     /* NULL = unset */
	char *user;    /* NULL = unset */
	char *hostname;
	bool tty, stdin_open;
	uint32_t accept_delay_ms;
	uint32_t timeout_ms;
};

void bx_spec_init(struct bx_spec *s);
void bx_spec_free(struct bx_spec *s);
int bx_spec_add_arg(struct bx_spec *s, const char *a, struct bx_err *err);
int bx_spec_add_env(struct bx_spec *s, const char *kv, struct bx_err *err);
/* Replace a string field with a copy of v (NULL: unset). */
int bx_spec_set_cwd(struct bx_spec *s, const char *cwd, struct bx_err *err);
int bx_spec_set_user(struct bx_spec *s, const char *user, struct bx_err *err);
int bx_spec_set_hostname(struct bx_spec *s, const char *hostname, struct bx_err *err);
/* Encode into a malloc'd buffer. */
int bx_spec_encode(const struct bx_spec *s, uint8_t **out, size_t *out_len, struct bx_err *err);
/* Decode; *s must be freshly initialised. Fails on truncation, unknown tags, missing args
 * (also on duplicate single-valued tags, malformed flags/numbers, NUL bytes in strings);
 * on failure *s is left empty (freed and re-initialised). */
int bx_spec_decode(struct bx_spec *s, const uint8_t *buf, size_t len, struct bx_err *err);

#endif
