/* Errors and --debug lines in runc's (logrus's) style: on stderr as
 * time="..." level=error msg="...", or with --log in that file (JSON
 * {"level","msg","time"} with --log-format json, which is where containerd
 * and conmon look for the reason a command failed) and the bare message on
 * stderr. */
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

/* logrus's time: RFC 3339 in seconds */
static void now_text(char *out, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* logrus's text line: time="..." level=LEVEL msg="..." (the message quoted
 * as Go's %q would, for what bx_safe_text leaves: backslash and quote) */
static char *text_line(const char *level, const char *msg)
{
	char when[64];
	now_text(when, sizeof(when));
	size_t n = strlen(msg);
	_cleanup_free_ char *quoted = malloc(2 * n + 1);
	if (!quoted)
		return NULL;
	char *q = quoted;
	for (const char *m = msg; *m; m++) {
		if (*m == '"' || *m == '\\')
			*q++ = '\\';
		*q++ = *m;
	}
	*q = 0;
	char *line;
	return asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"", when, level, quoted) < 0 ? NULL : line;
}

static void log_line(const char *level, const char *msg)
{
	if (!globals || !globals->log_path)
		return;
	_cleanup_close_ int fd = open(globals->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	_cleanup_free_ char *line = NULL;
	if (globals->log_json) {
		char when[64];
		now_text(when, sizeof(when));
		_cleanup_json_ json_t *o = json_pack("{s:s,s:s,s:s}", "level", level, "msg", msg, "time", when);
		line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	} else {
		line = text_line(level, msg);
	}
	if (line)
		dprintf(fd, "%s\n", line);
}

/* Where runc writes a line: into --log when given (and then an error's bare
 * message on stderr too, so that a caller reading stderr sees why), else on
 * stderr as logrus does: the text line, or "ERRO[0000] msg" on a terminal. */
static void emit(const char *level, const char *msg)
{
	if (globals && globals->log_path) {
		log_line(level, msg);
		if (!strcmp(level, "error"))
			dprintf(STDERR_FILENO, "%s\n", msg);
		return;
	}
	if (isatty(STDERR_FILENO)) {
		dprintf(STDERR_FILENO, "%s[0000] %s\n", !strcmp(level, "error") ? "ERRO" : "DEBU", msg);
		return;
	}
	_cleanup_free_ char *line = text_line(level, msg);
	dprintf(STDERR_FILENO, "%s\n", line ? line : msg);
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
	emit("error", msg);
}

void rt_debug(const char *fmt, ...)
{
	if (!globals || !globals->debug)
		return;
	char raw[2048], msg[BX_SAFE_TEXT_SIZE(sizeof(raw))];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	bx_safe_text(msg, sizeof(msg), raw, strlen(raw));
	emit("debug", msg);
}
