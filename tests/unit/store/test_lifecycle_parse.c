/* Pure lifecycle logic: restart policy and backoff, signals, log options,
 * json-file lines and rotation, --format templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/template.h"
#include "common/paths.h"
#include "store/boxconfig.h"
#include "store/logfile.h"

static void test_restart_policy(void **state)
{
	struct bx_restart_policy p;
	struct bx_err err;
	assert_int_equal(bx_restart_policy_parse("no", &p, &err), 0);
	assert_int_equal(p.kind, BX_RESTART_NO);
	assert_int_equal(bx_restart_policy_parse("on-failure:3", &p, &err), 0);
	assert_int_equal(p.kind, BX_RESTART_ON_FAILURE);
	assert_int_equal(p.max_retries, 3);
	assert_int_equal(bx_restart_policy_parse("unless-stopped", &p, &err), 0);
	assert_int_equal(bx_restart_policy_parse("always:2", &p, &err), -1);
	assert_int_equal(bx_restart_policy_parse("sometimes", &p, &err), -1);
	assert_non_null(strstr(err.msg, "invalid restart policy"));
	assert_int_equal(bx_restart_policy_parse("on-failure:x", &p, &err), -1);

	bx_restart_policy_parse("on-failure:2", &p, &err);
	assert_false(bx_restart_should(&p, 0, 0, false)); /* success: no restart */
	assert_true(bx_restart_should(&p, 1, 0, false));
	assert_true(bx_restart_should(&p, 1, 1, false));
	assert_false(bx_restart_should(&p, 1, 2, false)); /* exactly twice */
	bx_restart_policy_parse("always", &p, &err);
	assert_true(bx_restart_should(&p, 0, 100, false));
	assert_false(bx_restart_should(&p, 1, 0, true)); /* a user stop is never undone */
	bx_restart_policy_parse("no", &p, &err);
	assert_false(bx_restart_should(&p, 1, 0, false));
}

/* boxvm system boot: Docker's daemon start */
static void test_restart_at_boot(void **state)
{
	struct bx_restart_policy p;
	struct bx_err err;
	bx_restart_policy_parse("always", &p, &err);
	assert_true(bx_restart_at_boot(&p, false, true));
	assert_true(bx_restart_at_boot(&p, true, true)); /* always: even a user stop */
	assert_false(bx_restart_at_boot(&p, false, false)); /* created, never started */
	bx_restart_policy_parse("unless-stopped", &p, &err);
	assert_true(bx_restart_at_boot(&p, false, true));
	assert_false(bx_restart_at_boot(&p, true, true));
	bx_restart_policy_parse("on-failure", &p, &err);
	assert_false(bx_restart_at_boot(&p, false, true));
	bx_restart_policy_parse("no", &p, &err);
	assert_false(bx_restart_at_boot(&p, false, true));
}

static void test_backoff(void **state)
{
	assert_int_equal(bx_restart_backoff_ms(0), 100);
	assert_int_equal(bx_restart_backoff_ms(1), 200);
	assert_int_equal(bx_restart_backoff_ms(3), 800);
	assert_int_equal(bx_restart_backoff_ms(20), 60000);
	assert_int_equal(bx_restart_backoff_ms(1000), 60000);
}

static void test_signals(void **state)
{
	int s;
	struct bx_err err;
	assert_int_equal(bx_signal_parse("TERM", &s, &err), 0);
	assert_int_equal(s, 15);
	assert_int_equal(bx_signal_parse("sigkill", &s, &err), 0);
	assert_int_equal(s, 9);
	assert_int_equal(bx_signal_parse("SIGUSR1", &s, &err), 0);
	assert_int_equal(s, 10);
	assert_int_equal(bx_signal_parse("2", &s, &err), 0);
	assert_int_equal(s, 2);
	assert_int_equal(bx_signal_parse("SIGNOPE", &s, &err), -1);
	assert_int_equal(bx_signal_parse("99", &s, &err), -1);
	assert_string_equal(bx_signal_name(15), "SIGTERM");
}

static void test_log_opts(void **state)
{
	struct bx_log_opts o = {0, 1};
	struct bx_err err;
	assert_int_equal(bx_log_opt_parse("max-size=10m", &o, &err), 0);
	assert_int_equal(o.max_size, 10LL << 20);
	assert_int_equal(bx_log_opt_parse("max-size=512k", &o, &err), 0);
	assert_int_equal(o.max_size, 512LL << 10);
	assert_int_equal(bx_log_opt_parse("max-file=3", &o, &err), 0);
	assert_int_equal(o.max_file, 3);
	assert_int_equal(bx_log_opt_parse("max-file=0", &o, &err), -1);
	assert_int_equal(bx_log_opt_parse("max-size=lots", &o, &err), -1);
	assert_int_equal(bx_log_opt_parse("mode=non-blocking", &o, &err), -1);
	assert_int_equal(bx_log_opt_parse("max-size", &o, &err), -1);
}

static void test_log_line_codec(void **state)
{
	char *out = NULL;
	size_t len = 0;
	long long t = 1795897974920039129LL;
	assert_int_equal(bx_log_encode(1, "a \"q\"\n", 6, t, &out, &len), 0);
	assert_string_equal(out, "{\"log\":\"a \\\"q\\\"\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-28T20:32:54.920039129Z\"}\n");
	struct bx_log_entry e;
	assert_int_equal(bx_log_decode(out, len - 1, &e), 0);
	assert_int_equal(e.stream, 1);
	assert_int_equal(e.t_ns, t);
	assert_int_equal(e.len, 6);
	assert_memory_equal(e.text, "a \"q\"\n", 6);
	bx_log_entry_free(&e);
	free(out);
	assert_int_equal(bx_log_time_parse("2026-11-28T20:32:54Z"), 1795897974LL * 1000000000LL);
	assert_int_equal(bx_log_time_parse("2026-11-28T21:32:54.5+01:00"), 1795897974LL * 1000000000LL + 500000000LL);
	assert_int_equal(bx_log_time_parse("yesterday"), -1);
	assert_int_equal(bx_log_time_parse("3000-01-01T00:00:00Z"), -1); /* out of long long ns */
}

static size_t file_size(const char *dir, const char *name)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0 ? (size_t)st.st_size : (size_t)-1;
}

static void test_log_writer_lines_and_rotation(void **state)
{
	char dir[] = "/tmp/bx-log-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct bx_log_opts o = {.max_size = 400, .max_file = 3};
	static struct bx_log_writer w;
	struct bx_err err;
	assert_int_equal(bx_log_open(&w, dir, &o, &err), 0);
	/* split at newlines, a partial line waits for its end */
	assert_int_equal(bx_log_write(&w, 0, "one\ntw", 6, 1, &err), 0);
	assert_int_equal(bx_log_write(&w, 0, "o\n", 2, 2, &err), 0);
	assert_int_equal(bx_log_write(&w, 1, "no newline", 10, 3, &err), 0);
	assert_int_equal(bx_log_flush(&w, 4, &err), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/json.log", dir);
	char *text = NULL;
	size_t len;
	assert_int_equal(bx_read_file(p, &text, &len, &err), 0);
	assert_non_null(strstr(text, "\"log\":\"one\\n\""));
	assert_non_null(strstr(text, "\"log\":\"two\\n\""));
	assert_non_null(strstr(text, "\"log\":\"no newline\",\"stream\":\"stderr\""));
	free(text);
	/* invalid UTF-8 is replaced, not dropped */
	assert_int_equal(bx_log_write(&w, 0, "bad \xff\n", 6, 5, &err), 0);
	/* rotation: never more than max_file files, each within max_size */
	for (int i = 0; i < 100; i++)
		assert_int_equal(bx_log_write(&w, 0, "0123456789\n", 11, 10 + i, &err), 0);
	bx_log_close(&w);
	assert_true(file_size(dir, "json.log") <= 400);
	assert_true(file_size(dir, "json.log.1") <= 400);
	assert_true(file_size(dir, "json.log.2") <= 400);
	assert_int_equal(file_size(dir, "json.log.3"), (size_t)-1);
	bx_rm_rf(dir, NULL);
}

static void test_template(void **state)
{
	struct bx_err err;
	json_t *o = json_pack("{s:s,s:{s:s,s:i,s:b},s:{s:s}}", "Names", "web", "State", "Status", "running", "ExitCode", 3,
			      "Running", 1, "Labels", "a", "b");
	char *out = NULL;
	assert_int_equal(bx_template_render("{{.Names}}\\t{{ .State.Status }} {{.State.ExitCode}} {{.State.Running}}", o,
					    &out, &err),
			 0);
	assert_string_equal(out, "web\trunning 3 true");
	free(out);
	assert_int_equal(bx_template_render("{{json .Labels}} {{.Nope}}", o, &out, &err), 0);
	assert_string_equal(out, "{\"a\":\"b\"} <no value>");
	free(out);
	assert_int_equal(bx_template_check("{{.Names", &err), -1);
	assert_int_equal(bx_template_check("{{range .X}}", &err), -1);
	assert_int_equal(bx_template_check("plain text", &err), 0);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_policy),
		cmocka_unit_test(test_restart_at_boot),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_log_opts),
		cmocka_unit_test(test_log_line_codec),
		cmocka_unit_test(test_log_writer_lines_and_rotation),
		cmocka_unit_test(test_template),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
