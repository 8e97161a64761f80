/* One error convention for all of boxvm (host and guest) (err.h). */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int vfail(struct bx_err *err, int exit_code, int errnum, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	err->errnum = errnum;
	err->exit_code = exit_code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n < 0)
		n = 0;
	if (errnum && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
	/* one line: fold embedded newlines */
	for (char *c = err->msg; *c; c++)
		if (*c == '\n')
			*c = ' ';
	return -1;
}

int bx_fail(struct bx_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, BX_EXIT_ERROR, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int bx_fail_code(struct bx_err *err, int exit_code, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, exit_code, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int bx_wrap(struct bx_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char prefix[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	char old[sizeof(err->msg)];
	memcpy(old, err->msg, sizeof(old));
	int n = snprintf(err->msg, sizeof(err->msg), "%s: ", prefix);
	if (n >= 0 && (size_t)n < sizeof(err->msg))
		memccpy(err->msg + n, old, '\0', sizeof(err->msg) - (size_t)n);
	err->msg[sizeof(err->msg) - 1] = '\0';
	return -1;
}

void bx_err_clear(struct bx_err *err)
{
	if (err) {
		err->errnum = 0;
		err->exit_code = 0;
		err->msg[0] = '\0';
	}
}
