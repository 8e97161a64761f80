/* Health checks: configuration (parse, merge, check), the results' state
 * machine and BOXDIR/health.json (see health.h). All but the file I/O is pure. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/paths.h"
#include "health.h"
#include "logfile.h"

void bx_health_config_free(struct bx_health_config *c)
{
	for (size_t i = 0; i < c->ntest; i++)
		free(c->test[i]);
	free(c->test);
	memset(c, 0, sizeof(*c));
}

static int set_test(struct bx_health_config *c, char *const *words, size_t n, struct bx_err *err)
{
	char **t = calloc(n + 1, sizeof(*t));
	if (!t)
		return bx_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!(t[i] = strdup(words[i]))) {
			for (size_t j = 0; j < i; j++)
				free(t[j]);
			free(t);
			return bx_fail(err, ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < c->ntest; i++)
		free(c->test[i]);
	free(c->test);
	c->test = t;
	c->ntest = n;
	return 0;
}

static long long json_ns(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

int bx_health_config_from_json(const json_t *o, struct bx_health_config *c, struct bx_err *err)
{
	memset(c, 0, sizeof(*c));
	if (!json_is_object(o))
		return 0;
	const json_t *test = json_object_get(o, "Test");
	size_t n = json_is_array(test) ? json_array_size(test) : 0;
	if (n > BX_HEALTH_TEST_MAX)
		return bx_fail(err, 0, "the health check's Test has %zu words (at most %d)", n, BX_HEALTH_TEST_MAX);
	if (n) {
		char *words[BX_HEALTH_TEST_MAX];
		for (size_t i = 0; i < n; i++) {
			const char *w = json_string_value(json_array_get(test, i));
			if (!w)
				return bx_fail(err, 0, "the health check's Test holds something other than strings");
			words[i] = (char *)w;
		}
		if (set_test(c, words, n, err) < 0)
			return -1;
	}
	c->interval_ns = json_ns(o, "Interval");
	c->timeout_ns = json_ns(o, "Timeout");
	c->start_period_ns = json_ns(o, "StartPeriod");
	long long r = json_ns(o, "Retries");
	c->retries = r > INT_MAX ? INT_MAX : r < INT_MIN ? INT_MIN : (int)r;
	return 0;
}

json_t *bx_health_config_json(const struct bx_health_config *c)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (c->ntest) {
		json_t *t = json_array();
		for (size_t i = 0; t && i < c->ntest; i++)
			json_array_append_new(t, json_string(c->test[i]));
		json_object_set_new(o, "Test", t);
	}
	if (c->interval_ns)
		json_object_set_new(o, "Interval", json_integer(c->interval_ns));
	if (c->timeout_ns)
		json_object_set_new(o, "Timeout", json_integer(c->timeout_ns));
	if (c->start_period_ns)
		json_object_set_new(o, "StartPeriod", json_integer(c->start_period_ns));
	if (c->retries)
		json_object_set_new(o, "Retries", json_integer(c->retries));
	return o;
}

/* daemon/commit.go's merge: the image's fields fill what the user left at zero */
int bx_health_config_merge(struct bx_health_config *user, bool user_set, const struct bx_health_config *image,
			   struct bx_err *err)
{
	if (!user_set) {
		bx_health_config_free(user);
		if (image->ntest && set_test(user, image->test, image->ntest, err) < 0)
			return -1;
		user->interval_ns = image->interval_ns;
		user->timeout_ns = image->timeout_ns;
		user->start_period_ns = image->start_period_ns;
		user->retries = image->retries;
		return 0;
	}
	if (!user->ntest && image->ntest && set_test(user, image->test, image->ntest, err) < 0)
		return -1;
	if (!user->interval_ns)
		user->interval_ns = image->interval_ns;
	if (!user->timeout_ns)
		user->timeout_ns = image->timeout_ns;
	if (!user->start_period_ns)
		user->start_period_ns = image->start_period_ns;
	if (!user->retries)
		user->retries = image->retries;
	return 0;
}

int bx_health_config_check(const struct bx_health_config *c, struct bx_err *err)
{
	if (c->interval_ns && c->interval_ns < BX_HEALTH_MIN_NS)
		return bx_fail(err, 0, "Interval in Healthcheck cannot be less than 1ms");
	if (c->timeout_ns && c->timeout_ns < BX_HEALTH_MIN_NS)
		return bx_fail(err, 0, "Timeout in Healthcheck cannot be less than 1ms");
	if (c->retries < 0)
		return bx_fail(err, 0, "Retries in Healthcheck cannot be negative");
	if (c->start_period_ns && c->start_period_ns < BX_HEALTH_MIN_NS)
		return bx_fail(err, 0, "StartPeriod in Healthcheck cannot be less than 1ms");
	return 0;
}

enum bx_health_probe bx_health_probe_of(const struct bx_health_config *c)
{
	if (!c->ntest)
		return BX_PROBE_NONE;
	if (!strcmp(c->test[0], "CMD"))
		return c->ntest > 1 ? BX_PROBE_CMD : BX_PROBE_NONE;
	if (!strcmp(c->test[0], "CMD-SHELL"))
		return c->ntest > 1 ? BX_PROBE_SHELL : BX_PROBE_NONE;
	return BX_PROBE_NONE; /* NONE, or a kind Docker only warns about */
}

/* daemon/health.go's timeoutWithDefault: 0 (or less) is the default */
long long bx_health_interval_ns(const struct bx_health_config *c)
{
	return c->interval_ns > 0 ? c->interval_ns : BX_HEALTH_INTERVAL_NS;
}

long long bx_health_timeout_ns(const struct bx_health_config *c)
{
	return c->timeout_ns > 0 ? c->timeout_ns : BX_HEALTH_TIMEOUT_NS;
}

int bx_health_retries(const struct bx_health_config *c)
{
	return c->retries > 0 ? c->retries : BX_HEALTH_RETRIES;
}

int bx_health_config_read(const char *box_dir, struct bx_health_config *c, struct bx_err *err)
{
	char path[PATH_MAX];
	memset(c, 0, sizeof(*c));
	if (bx_path_join(path, sizeof(path), err, "%s/config.json", box_dir) < 0)
		return -1;
	json_error_t je;
	_cleanup_json_ json_t *o = json_load_file(path, 0, &je);
	if (!o)
		return access(path, F_OK) == 0 ? bx_fail(err, 0, "%s: %s", path, je.text) : 0;
	return bx_health_config_from_json(json_object_get(json_object_get(o, "Config"), "Healthcheck"), c, err);
}

/* ---- results and state ---- */

static const char *const status_names[] = {"starting", "healthy", "unhealthy"};

const char *bx_health_status_name(enum bx_health_status s)
{
	return (unsigned)s < 3 ? status_names[s] : "unhealthy";
}

int bx_health_status_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, status_names[i]))
			return i;
	return -1;
}

void bx_health_capture_add(struct bx_health_capture *c, const void *p, size_t n)
{
	size_t room = BX_HEALTH_OUTPUT_MAX - c->len, keep = n < room ? n : room;
	memcpy(c->buf + c->len, p, keep);
	c->len += keep;
	if (keep != n)
		c->truncated = true;
}

/* the length of the valid UTF-8 sequence at p (at most n bytes), 0 if none */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char b = p[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xBF;
	if (b < 0x80)
		return 1;
	if (b >= 0xC2 && b <= 0xDF)
		len = 2;
	else if (b >= 0xE0 && b <= 0xEF) {
		len = 3;
		if (b == 0xE0)
			lo = 0xA0;
		if (b == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (b >= 0xF0 && b <= 0xF4) {
		len = 4;
		if (b == 0xF0)
			lo = 0x90;
		if (b == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

void bx_health_capture_text(const struct bx_health_capture *c, struct bx_health_result *r)
{
	const unsigned char *p = (const unsigned char *)c->buf;
	size_t o = 0;
	for (size_t i = 0; i < c->len;) {
		size_t l = utf8_seq(p + i, c->len - i);
		if (l) {
			memcpy(r->output + o, p + i, l);
			o += l;
			i += l;
		} else {
			/* Go's encoding/json writes U+FFFD for a byte that is not UTF-8 */
			memcpy(r->output + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	if (c->truncated) {
		memcpy(r->output + o, "...", 3);
		o += 3;
	}
	r->output[o] = '\0';
	r->output_len = o;
}

void bx_health_result_text(struct bx_health_result *r, const char *text)
{
	snprintf(r->output, sizeof(r->output), "%s", text);
	r->output_len = strlen(r->output);
}

void bx_health_reset(struct bx_health *h)
{
	h->status = BX_HEALTH_STARTING;
	h->failing_streak = 0;
}

void bx_health_stopped(struct bx_health *h)
{
	h->status = BX_HEALTH_UNHEALTHY;
}

bool bx_health_record(struct bx_health *h, const struct bx_health_result *r, const struct bx_health_config *c,
		      long long started_ns)
{
	enum bx_health_status old = h->status;
	if (h->nlog >= BX_HEALTH_LOG_MAX) {
		memmove(&h->log[0], &h->log[1], sizeof(h->log[0]) * (BX_HEALTH_LOG_MAX - 1));
		h->nlog = BX_HEALTH_LOG_MAX - 1;
	}
	h->log[h->nlog++] = *r;
	if (r->exit_code == 0) {
		h->failing_streak = 0;
		h->status = BX_HEALTH_HEALTHY;
	} else {
		/* a box that never passed a check is forgiven its failures
		 * within the start period */
		bool count = !(h->status == BX_HEALTH_STARTING && r->start_ns - started_ns < c->start_period_ns);
		if (count && ++h->failing_streak >= bx_health_retries(c))
			h->status = BX_HEALTH_UNHEALTHY;
	}
	return h->status != old;
}

void bx_health_time_format(long long ns, char *out, size_t size)
{
	time_t sec = (time_t)(ns / 1000000000LL);
	long long frac = ns % 1000000000LL;
	struct tm tm;
	gmtime_r(&sec, &tm);
	char base[32], digits[16] = "";
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac) {
		snprintf(digits, sizeof(digits), ".%09lld", frac);
		size_t l = strlen(digits);
		while (digits[l - 1] == '0')
			digits[--l] = '\0';
	}
	snprintf(out, size, "%s%sZ", base, digits);
}

json_t *bx_health_json(const struct bx_health *h)
{
	json_t *log = json_array();
	for (int i = 0; log && i < h->nlog; i++) {
		const struct bx_health_result *r = &h->log[i];
		char start[48], end[48];
		bx_health_time_format(r->start_ns, start, sizeof(start));
		bx_health_time_format(r->end_ns, end, sizeof(end));
		json_array_append_new(log, json_pack("{s:s,s:s,s:i,s:s%}", "Start", start, "End", end, "ExitCode",
						     r->exit_code, "Output", r->output, r->output_len));
	}
	return json_pack("{s:s,s:i,s:o*}", "Status", bx_health_status_name(h->status), "FailingStreak",
			 h->failing_streak, "Log", log);
}

int bx_health_from_json(const json_t *o, struct bx_health *h, struct bx_err *err)
{
	memset(h, 0, sizeof(*h));
	const char *st = json_string_value(json_object_get(o, "Status"));
	int s = st ? bx_health_status_parse(st) : -1;
	if (s < 0)
		return bx_fail(err, 0, "health record: no valid Status");
	h->status = (enum bx_health_status)s;
	h->failing_streak = (int)json_integer_value(json_object_get(o, "FailingStreak"));
	const json_t *log = json_object_get(o, "Log");
	size_t n = json_array_size(log), from = n > BX_HEALTH_LOG_MAX ? n - BX_HEALTH_LOG_MAX : 0;
	for (size_t i = from; i < n; i++) {
		const json_t *e = json_array_get(log, i);
		struct bx_health_result *r = &h->log[h->nlog++];
		const char *start = json_string_value(json_object_get(e, "Start"));
		const char *end = json_string_value(json_object_get(e, "End"));
		const json_t *out = json_object_get(e, "Output");
		r->start_ns = start ? bx_log_time_parse(start) : 0;
		r->end_ns = end ? bx_log_time_parse(end) : 0;
		r->exit_code = (int)json_integer_value(json_object_get(e, "ExitCode"));
		size_t l = json_string_length(out);
		if (l >= sizeof(r->output))
			l = sizeof(r->output) - 1;
		if (json_is_string(out))
			memcpy(r->output, json_string_value(out), l);
		r->output[l] = '\0';
		r->output_len = l;
	}
	return 0;
}

int bx_health_write(const char *box_dir, const struct bx_health *h, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/%s", box_dir, BX_HEALTH_FILE) < 0)
		return -1;
	_cleanup_json_ json_t *o = bx_health_json(h);
	_cleanup_free_ char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (!text)
		return bx_fail(err, ENOMEM, "cannot encode the box's health");
	return bx_write_file_atomic(path, text, strlen(text), 0644, err);
}

int bx_health_read(const char *box_dir, struct bx_health *h, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/%s", box_dir, BX_HEALTH_FILE) < 0)
		return -1;
	json_error_t je;
	_cleanup_json_ json_t *o = json_load_file(path, JSON_ALLOW_NUL, &je);
	if (!o) {
		if (errno == ENOENT || access(path, F_OK) != 0)
			return 0;
		return bx_fail(err, 0, "%s: %s", path, je.text);
	}
	if (bx_health_from_json(o, h, err) < 0)
		return -1;
	return 1;
}

int bx_health_status_read(const char *box_dir)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/%s", box_dir, BX_HEALTH_FILE) < 0)
		return -1;
	_cleanup_json_ json_t *o = json_load_file(path, JSON_ALLOW_NUL, NULL);
	const char *st = json_string_value(json_object_get(o, "Status"));
	return st ? bx_health_status_parse(st) : -1;
}
