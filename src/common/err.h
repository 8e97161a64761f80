/* One error convention for all of boxvm (host and guest).
 *
 * A fallible function returns int: 0 (or a non-negative count) on success,
 * -1 on failure after filling *err. The message is one line, names what was
 * wrong and, where it helps, what to do. `errnum` keeps the errno that caused
 * it (0 if none); `exit_code` is what `run` exits with (125 by default,
 * 126/127 for "cannot execute"/"not found", as Docker does); the CLI's other
 * commands exit 1 for it, as Docker's (src/cli/main.c, bx_cli_report). */
#ifndef BOXVM_ERR_H
#define BOXVM_ERR_H

#include <stddef.h>

#define BX_EXIT_ERROR 125
#define BX_EXIT_CANNOT_EXEC 126
#define BX_EXIT_NOT_FOUND 127

struct bx_err {
	int errnum;
	int exit_code;
	char msg[1024];
};

/* Fill *err (if non-NULL) and return -1. errnum: errno to append as ": strerror" (0: none). */
int bx_fail(struct bx_err *err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, with an explicit CLI exit code. */
int bx_fail_code(struct bx_err *err, int exit_code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefix an existing message: "what: <old message>". Returns -1. */
int bx_wrap(struct bx_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bx_err_clear(struct bx_err *err);

#endif
