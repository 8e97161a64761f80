/* Errors in runc's style: one line on stderr, and with --log a line in that
 * file (JSON {"level","msg","time"} with --log-format json, which is where
 * containerd and conmon look for the reason a command failed). */
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/safetext.h"
#include "rt.h"

static const struct rt_globals *globals;

void rt_log_init(const struct rt_globals *g)
{
	globals = g;
	/* runc creates --log at start, whether or not a line comes */
	if (g->log_path) {
		int fd = open(g->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	}
}

static void log_line(const char *level, const char *msg)
{
	if (!globals || !globals->log_path)
		return;
	_cleanup_close_ int fd = open(globals->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[64];
	size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%09ldZ", ts.tv_nsec);
	_cleanup_free_ char *line = NULL;
	if (globals->log_json) {
		_cleanup_json_ json_t *o = json_pack("{s:s,s:s,s:s}", "level", level, "msg", msg, "time", when);
		line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	} else if (asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"", when, level, msg) < 0) {
		line = NULL;
	}
	if (line)
		dprintf(fd, "%s\n", line);
}

void rt_error(const char *fmt, ...)
{
	char raw[2048], msg[BX_SAFE_TEXT_SIZE(sizeof(raw))];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* one line, and nothing a guest said may drive the caller's terminal */
	bx_safe_text(msg, sizeof(msg), raw, strlen(raw));
	log_line("error", msg);
	dprintf(STDERR_FILENO, "boxvm-runtime: %s\n", msg);
}

void rt_debug(const char *fmt, ...)
{
	if (!globals || !globals->debug)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line("debug", msg);
}
