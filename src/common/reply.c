/* The one-line replies boxvm's own processes send each other: "ok" or "error CODE: message" (reply.h). */
#include "reply.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

size_t bx_reply_read(int fd, char *line, size_t size, int timeout_ms)
{
	size_t have = 0;
	while (have < size - 1) {
		if (timeout_ms >= 0) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			int r = poll(&p, 1, timeout_ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
		}
		ssize_t k = read(fd, line + have, size - 1 - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		have += (size_t)k;
		if (memchr(line, '\n', have))
			break;
	}
	line[have] = '\0';
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	return strlen(line);
}

int bx_reply_check(const char *line, const char *silent, struct bx_err *err)
{
	if (!strcmp(line, "ok"))
		return 0;
	if (!strncmp(line, "error: ", 7))
		return bx_fail(err, 0, "%s", line + 7);
	/* "error CODE: MESSAGE": the exit code `run` should end with (126, 127) */
	int code = 0, at = 0;
	if (sscanf(line, "error %3d: %n", &code, &at) == 1 && at > 0 && code > 0 && code < 256)
		return bx_fail_code(err, code, 0, "%s", line + at);
	return bx_fail(err, 0, "%s", silent);
}

void bx_reply_drain(int fd)
{
	char buf[256];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r == 0 || (r < 0 && errno != EINTR))
			return;
	}
}
