/* Health checks: the results' state machine (start period, retries, streak,
 * the log of 5), output truncation, the configuration's merge and checks,
 * and health.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/health.h"

#define S 1000000000LL

static struct bx_health_result result(long long start_ns, int code, const char *out)
{
	struct bx_health_result r;
	memset(&r, 0, sizeof(r));
	r.start_ns = start_ns;
	r.end_ns = start_ns + S / 10;
	r.exit_code = code;
	bx_health_result_text(&r, out);
	return r;
}

static void healthy_then_unhealthy_after_retries(void **state)
{
	struct bx_health_config c = {.retries = 2};
	struct bx_health *h = calloc(1, sizeof(*h));
	bx_health_reset(h);
	assert_int_equal(h->status, BX_HEALTH_STARTING);
	struct bx_health_result r = result(100 * S, 0, "ok\n");
	assert_true(bx_health_record(h, &r, &c, 99 * S));
	assert_int_equal(h->status, BX_HEALTH_HEALTHY);
	r = result(101 * S, 1, "bad");
	assert_false(bx_health_record(h, &r, &c, 99 * S)); /* one failure: still healthy */
	assert_int_equal(h->failing_streak, 1);
	assert_int_equal(h->status, BX_HEALTH_HEALTHY);
	assert_true(bx_health_record(h, &r, &c, 99 * S)); /* retries in a row */
	assert_int_equal(h->status, BX_HEALTH_UNHEALTHY);
	assert_int_equal(h->failing_streak, 2);
	assert_false(bx_health_record(h, &r, &c, 99 * S));
	assert_int_equal(h->failing_streak, 3);
	r = result(110 * S, 0, "ok");
	assert_true(bx_health_record(h, &r, &c, 99 * S)); /* one success heals */
	assert_int_equal(h->failing_streak, 0);
	assert_int_equal(h->status, BX_HEALTH_HEALTHY);
	free(h);
}

static void default_retries_is_three(void **state)
{
	struct bx_health_config c = {0};
	struct bx_health *h = calloc(1, sizeof(*h));
	bx_health_reset(h);
	struct bx_health_result r = result(10 * S, 2, "");
	assert_false(bx_health_record(h, &r, &c, 0));
	assert_false(bx_health_record(h, &r, &c, 0));
	assert_int_equal(h->status, BX_HEALTH_STARTING);
	assert_true(bx_health_record(h, &r, &c, 0));
	assert_int_equal(h->status, BX_HEALTH_UNHEALTHY);
	/* -1 (a timeout) is a failure like any other non-zero code */
	bx_health_reset(h);
	r = result(10 * S, -1, "Health check exceeded timeout (1s)");
	for (int i = 0; i < 3; i++)
		bx_health_record(h, &r, &c, 0);
	assert_int_equal(h->status, BX_HEALTH_UNHEALTHY);
	free(h);
}

static void start_period_forgives_failures_while_starting(void **state)
{
	struct bx_health_config c = {.retries = 1, .start_period_ns = 10 * S};
	struct bx_health *h = calloc(1, sizeof(*h));
	bx_health_reset(h);
	long long started = 1000 * S;
	struct bx_health_result r = result(started + 5 * S, 1, "not yet");
	assert_false(bx_health_record(h, &r, &c, started));
	assert_int_equal(h->failing_streak, 0);
	assert_int_equal(h->status, BX_HEALTH_STARTING);
	assert_int_equal(h->nlog, 1); /* still logged */
	r = result(started + 10 * S, 1, "late"); /* the period is over: it counts */
	assert_true(bx_health_record(h, &r, &c, started));
	assert_int_equal(h->status, BX_HEALTH_UNHEALTHY);
	/* once healthy, the start period no longer applies */
	c.retries = 2;
	bx_health_reset(h);
	r = result(started + 1 * S, 0, "ok");
	bx_health_record(h, &r, &c, started);
	r = result(started + 2 * S, 1, "bad");
	bx_health_record(h, &r, &c, started);
	assert_int_equal(h->failing_streak, 1);
	free(h);
}

static void log_keeps_the_newest_five(void **state)
{
	struct bx_health_config c = {0};
	struct bx_health *h = calloc(1, sizeof(*h));
	bx_health_reset(h);
	for (int i = 0; i < 8; i++) {
		char out[8];
		snprintf(out, sizeof(out), "%d", i);
		struct bx_health_result r = result((i + 1) * S, 0, out);
		bx_health_record(h, &r, &c, 0);
	}
	assert_int_equal(h->nlog, BX_HEALTH_LOG_MAX);
	for (int i = 0; i < BX_HEALTH_LOG_MAX; i++) {
		char want[8];
		snprintf(want, sizeof(want), "%d", i + 3);
		assert_string_equal(h->log[i].output, want);
	}
	free(h);
}

static void reset_and_stop_keep_the_log(void **state)
{
	struct bx_health_config c = {.retries = 1};
	struct bx_health *h = calloc(1, sizeof(*h));
	bx_health_reset(h);
	struct bx_health_result r = result(S, 1, "x");
	bx_health_record(h, &r, &c, 0);
	bx_health_stopped(h); /* Docker: unhealthy, streak kept */
	assert_int_equal(h->status, BX_HEALTH_UNHEALTHY);
	assert_int_equal(h->failing_streak, 1);
	bx_health_reset(h); /* a start: starting, streak 0, log kept */
	assert_int_equal(h->status, BX_HEALTH_STARTING);
	assert_int_equal(h->failing_streak, 0);
	assert_int_equal(h->nlog, 1);
	free(h);
}

static void output_is_cut_at_4096_bytes(void **state)
{
	struct bx_health_capture *cap = calloc(1, sizeof(*cap));
	struct bx_health_result *r = calloc(1, sizeof(*r));
	char big[5000];
	memset(big, 'a', sizeof(big));
	bx_health_capture_add(cap, "hi ", 3);
	bx_health_capture_add(cap, big, sizeof(big));
	bx_health_capture_add(cap, big, sizeof(big));
	bx_health_capture_text(cap, r);
	assert_int_equal(r->output_len, 4096 + 3);
	assert_memory_equal(r->output, "hi aaa", 6);
	assert_string_equal(r->output + 4096, "...");
	/* exactly 4096: no "..." */
	memset(cap, 0, sizeof(*cap));
	bx_health_capture_add(cap, big, 4096);
	bx_health_capture_text(cap, r);
	assert_int_equal(r->output_len, 4096);
	/* bytes that are not UTF-8 become U+FFFD (Go's JSON), NULs stay */
	memset(cap, 0, sizeof(*cap));
	bx_health_capture_add(cap, "a\xff\0b\xc3\xa9", 6);
	bx_health_capture_text(cap, r);
	assert_int_equal(r->output_len, 8);
	assert_memory_equal(r->output, "a\xEF\xBF\xBD\0b\xc3\xa9", 8);
	free(cap);
	free(r);
}

static struct bx_health_config parse(const char *json)
{
	struct bx_health_config c;
	json_t *o = json_loads(json, 0, NULL);
	assert_int_equal(bx_health_config_from_json(o, &c, NULL), 0);
	json_decref(o);
	return c;
}

static char *dump(const struct bx_health_config *c)
{
	json_t *o = bx_health_config_json(c);
	char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return t;
}

static void config_merge_and_defaults(void **state)
{
	struct bx_health_config img = parse("{\"Test\":[\"CMD\",\"/bin/true\"],\"Interval\":5000000000,\"Retries\":7}");
	assert_int_equal(bx_health_probe_of(&img), BX_PROBE_CMD);
	assert_true(bx_health_interval_ns(&img) == 5 * S);
	assert_true(bx_health_timeout_ns(&img) == 30 * S);
	assert_int_equal(bx_health_retries(&img), 7);
	/* no flags: the image's as it is */
	struct bx_health_config u = {0};
	assert_int_equal(bx_health_config_merge(&u, false, &img, NULL), 0);
	char *t = dump(&u);
	assert_string_equal(t, "{\"Test\":[\"CMD\",\"/bin/true\"],\"Interval\":5000000000,\"Retries\":7}");
	free(t);
	bx_health_config_free(&u);
	/* a flag: the user's fields win, the rest is the image's */
	u = parse("{\"Timeout\":2000000000,\"Retries\":1}");
	assert_int_equal(bx_health_config_merge(&u, true, &img, NULL), 0);
	t = dump(&u);
	assert_string_equal(t, "{\"Test\":[\"CMD\",\"/bin/true\"],\"Interval\":5000000000,\"Timeout\":2000000000,\"Retries\":1}");
	free(t);
	bx_health_config_free(&u);
	/* --no-healthcheck: Test NONE stays (and disables the check) */
	u = parse("{\"Test\":[\"NONE\"]}");
	assert_int_equal(bx_health_config_merge(&u, true, &img, NULL), 0);
	assert_int_equal(bx_health_probe_of(&u), BX_PROBE_NONE);
	bx_health_config_free(&u);
	bx_health_config_free(&img);
	/* CMD-SHELL; empty, unknown and bare kinds run nothing */
	u = parse("{\"Test\":[\"CMD-SHELL\",\"exit 0\"]}");
	assert_int_equal(bx_health_probe_of(&u), BX_PROBE_SHELL);
	bx_health_config_free(&u);
	const char *none[] = {"{}", "{\"Test\":[]}", "{\"Test\":[\"CMD\"]}", "{\"Test\":[\"WHAT\",\"x\"]}", "{\"Test\":5}"};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		u = parse(none[i]);
		assert_int_equal(bx_health_probe_of(&u), BX_PROBE_NONE);
		bx_health_config_free(&u);
	}
	/* a Test of something other than strings is refused */
	json_t *o = json_loads("{\"Test\":[\"CMD\",5]}", 0, NULL);
	struct bx_err err;
	assert_int_equal(bx_health_config_from_json(o, &u, &err), -1);
	json_decref(o);
}

static void config_checks_are_the_daemons(void **state)
{
	struct bx_err err;
	struct bx_health_config c = {.interval_ns = 999999};
	assert_int_equal(bx_health_config_check(&c, &err), -1);
	assert_string_equal(err.msg, "Interval in Healthcheck cannot be less than 1ms");
	c = (struct bx_health_config){.timeout_ns = 1};
	assert_int_equal(bx_health_config_check(&c, &err), -1);
	assert_string_equal(err.msg, "Timeout in Healthcheck cannot be less than 1ms");
	c = (struct bx_health_config){.start_period_ns = 10};
	assert_int_equal(bx_health_config_check(&c, &err), -1);
	assert_string_equal(err.msg, "StartPeriod in Healthcheck cannot be less than 1ms");
	c = (struct bx_health_config){.retries = -1};
	assert_int_equal(bx_health_config_check(&c, &err), -1);
	c = (struct bx_health_config){.interval_ns = 1000000, .timeout_ns = 0, .start_period_ns = 0};
	assert_int_equal(bx_health_config_check(&c, &err), 0);
}

static void file_roundtrip_and_times(void **state)
{
	char dir[] = "/tmp/bx-health-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct bx_health *h = calloc(1, sizeof(*h)), *back = calloc(1, sizeof(*back));
	assert_int_equal(bx_health_read(dir, back, NULL), 0); /* no file: no health */
	assert_int_equal(bx_health_status_read(dir), -1);
	struct bx_health_config c = {0};
	bx_health_reset(h);
	struct bx_health_result r = result(1796048208916581447LL, 0, "ok\n");
	r.end_ns = 1796048209000000000LL;
	bx_health_record(h, &r, &c, 0);
	assert_int_equal(bx_health_write(dir, h, NULL), 0);
	assert_int_equal(bx_health_read(dir, back, NULL), 1);
	assert_int_equal(back->status, BX_HEALTH_HEALTHY);
	assert_int_equal(back->nlog, 1);
	assert_true(back->log[0].start_ns == r.start_ns);
	assert_true(back->log[0].end_ns == r.end_ns);
	assert_string_equal(back->log[0].output, "ok\n");
	assert_int_equal(bx_health_status_read(dir), BX_HEALTH_HEALTHY);
	json_t *o = bx_health_json(h);
	char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	/* Docker's shape and Go's RFC3339Nano (trailing zeros dropped) */
	assert_string_equal(t, "{\"Status\":\"healthy\",\"FailingStreak\":0,\"Log\":[{\"Start\":\"2026-11-30T14:16:48.916581447Z\","
			       "\"End\":\"2026-11-30T14:16:49Z\",\"ExitCode\":0,\"Output\":\"ok\\n\"}]}");
	free(t);
	json_decref(o);
	char time[48];
	bx_health_time_format(1796048208900000000LL, time, sizeof(time));
	assert_string_equal(time, "2026-11-30T14:16:48.9Z");
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", dir, BX_HEALTH_FILE);
	unlink(path);
	rmdir(dir);
	free(h);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(healthy_then_unhealthy_after_retries),
		cmocka_unit_test(default_retries_is_three),
		cmocka_unit_test(start_period_forgives_failures_while_starting),
		cmocka_unit_test(log_keeps_the_newest_five),
		cmocka_unit_test(reset_and_stop_keep_the_log),
		cmocka_unit_test(output_is_cut_at_4096_bytes),
		cmocka_unit_test(config_merge_and_defaults),
		cmocka_unit_test(config_checks_are_the_daemons),
		cmocka_unit_test(file_roundtrip_and_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
