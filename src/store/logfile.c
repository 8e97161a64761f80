/* The json-file log writer (used by the shim) and the line codec (used by
 * `boxvm logs` too). */
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/paths.h"

void bx_log_time_format(long long t_ns, char out[40])
{
	time_t sec = (time_t)(t_ns / 1000000000LL);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%09lldZ", t_ns % 1000000000LL);
}

long long bx_log_time_parse(const char *s)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	long long frac = 0;
	if (*p == '.') {
		long long scale = 100000000LL;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	long long off = 0;
	if (*p == 'Z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) >= 6 && p[3] == ':') {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '-')
			off = -off;
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	long long secs = (long long)timegm(&tm) - off;
	if (secs < 0 || secs >= 9000000000LL) /* before 1970, or past 2255: out of long long ns */
		return -1;
	return secs * 1000000000LL + frac;
}

int bx_log_encode(int stream, const char *text, size_t len, long long t_ns, char **out, size_t *out_len)
{
	char tbuf[40];
	bx_log_time_format(t_ns, tbuf);
	_cleanup_json_ json_t *o = json_pack("{s:s%,s:s,s:s}", "log", text, len, "stream", stream ? "stderr" : "stdout",
					     "time", tbuf);
	if (!o)
		return -1;
	/* JSON_PRESERVE_ORDER: Docker's key order (log, stream, time) */
	_cleanup_free_ char *line = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	if (!line)
		return -1;
	size_t l = strlen(line);
	char *nb = realloc(*out, *out_len + l + 2);
	if (!nb)
		return -1;
	memcpy(nb + *out_len, line, l);
	nb[*out_len + l] = '\n';
	*out_len += l + 1;
	nb[*out_len] = '\0';
	*out = nb;
	return 0;
}

/* json_pack refuses invalid UTF-8; logs carry arbitrary bytes, so invalid
 * sequences become U+FFFD as Docker does. */
static char *sanitize_utf8(const char *s, size_t len, size_t *out_len)
{
	char *o = malloc(len * 3 + 1);
	if (!o)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t need = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		bool ok = need && i + need <= len;
		for (size_t k = 1; ok && k < need; k++)
			ok = ((unsigned char)s[i + k] >> 6) == 2;
		if (ok) {
			memcpy(o + n, s + i, need);
			n += need;
			i += need;
		} else {
			memcpy(o + n, "\xef\xbf\xbd", 3);
			n += 3;
			i++;
		}
	}
	o[n] = '\0';
	*out_len = n;
	return o;
}

static int rotate(struct bx_log_writer *w, struct bx_err *err)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	char from[4200], to[4200];
	if (w->opts.max_file <= 1) {
		/* one file: start it over (Docker's behaviour for max-file=1) */
		if (truncate(w->path, 0) < 0 && errno != ENOENT)
			return bx_fail(err, errno, "cannot truncate %s", w->path);
	} else {
		for (int i = w->opts.max_file - 1; i >= 1; i--) {
			if (i == 1)
				snprintf(from, sizeof(from), "%s", w->path);
			else
				snprintf(from, sizeof(from), "%s.%d", w->path, i - 1);
			snprintf(to, sizeof(to), "%s.%d", w->path, i);
			if (rename(from, to) < 0 && errno != ENOENT)
				return bx_fail(err, errno, "cannot rotate %s", from);
		}
	}
	w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (w->fd < 0)
		return bx_fail(err, errno, "cannot open %s", w->path);
	w->size = 0;
	return 0;
}

int bx_log_open(struct bx_log_writer *w, const char *box_dir, const struct bx_log_opts *opts, struct bx_err *err)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->opts = *opts;
	if (w->opts.max_file < 1)
		w->opts.max_file = 1;
	if (bx_path_join(w->path, sizeof(w->path), err, "%s/%s", box_dir, BX_LOG_NAME) < 0)
		return -1;
	w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (w->fd < 0)
		return bx_fail(err, errno, "cannot open %s", w->path);
	struct stat st;
	w->size = fstat(w->fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

static int emit(struct bx_log_writer *w, int stream, const char *text, size_t len, long long t_ns, struct bx_err *err)
{
	size_t clean_len;
	_cleanup_free_ char *clean = sanitize_utf8(text, len, &clean_len);
	_cleanup_free_ char *line = NULL;
	size_t line_len = 0;
	if (!clean || bx_log_encode(stream, clean, clean_len, t_ns, &line, &line_len) < 0)
		return bx_fail(err, ENOMEM, "out of memory encoding a log line");
	if (w->opts.max_size > 0 && w->size > 0 && w->size + (long long)line_len > w->opts.max_size &&
	    rotate(w, err) < 0)
		return -1;
	for (size_t off = 0; off < line_len;) {
		ssize_t n = write(w->fd, line + off, line_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* never half an entry in the file (a full disk): cut back to the
			 * last whole one, so readers and the next entries stay valid */
			int e = errno;
			if (off && ftruncate(w->fd, w->size) < 0) {
				/* nothing more to do: the error below says why */
			}
			return bx_fail(err, e, "cannot write %s", w->path);
		}
		off += (size_t)n;
	}
	w->size += (long long)line_len;
	return 0;
}

int bx_log_write(struct bx_log_writer *w, int stream, const void *buf, size_t len, long long t_ns, struct bx_err *err)
{
	const char *p = buf, *end = p + len;
	char *part = w->partial[stream];
	size_t *plen = &w->partial_len[stream];
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t take = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		size_t room = BX_LOG_PARTIAL_MAX - *plen;
		if (take > room)
			take = room;
		memcpy(part + *plen, p, take);
		*plen += take;
		p += take;
		if (part[*plen - 1] == '\n' || *plen == BX_LOG_PARTIAL_MAX) {
			int rc = emit(w, stream, part, *plen, t_ns, err);
			*plen = 0;
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

int bx_log_flush(struct bx_log_writer *w, long long t_ns, struct bx_err *err)
{
	int rc = 0;
	for (int s = 0; s < 2; s++) {
		if (w->partial_len[s] && emit(w, s, w->partial[s], w->partial_len[s], t_ns, err) < 0)
			rc = -1;
		w->partial_len[s] = 0;
	}
	return rc;
}

void bx_log_close(struct bx_log_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

int bx_log_decode(const char *line, size_t len, struct bx_log_entry *e)
{
	memset(e, 0, sizeof(*e));
	json_error_t je;
	_cleanup_json_ json_t *o = json_loadb(line, len, 0, &je);
	json_t *log = json_object_get(o, "log");
	const char *stream = json_string_value(json_object_get(o, "stream"));
	const char *t = json_string_value(json_object_get(o, "time"));
	if (!json_is_string(log) || !stream || !t)
		return -1;
	e->stream = !strcmp(stream, "stderr");
	snprintf(e->time, sizeof(e->time), "%s", t);
	e->t_ns = bx_log_time_parse(t);
	e->len = json_string_length(log);
	e->text = malloc(e->len + 1);
	if (!e->text)
		return -1;
	memcpy(e->text, json_string_value(log), e->len);
	e->text[e->len] = '\0';
	return 0;
}

void bx_log_entry_free(struct bx_log_entry *e)
{
	free(e->text);
	e->text = NULL;
}
