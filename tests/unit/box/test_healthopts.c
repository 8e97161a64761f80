/* run/create's health flags: Docker's parse errors, the client's and the
 * daemon's checks, and Config.Healthcheck merged with the image's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "box/healthopts.h"

static char *build(struct bx_healthopts *h, const char *image_hc)
{
	json_t *o = NULL;
	struct bx_err err;
	assert_int_equal(bx_healthopts_build(h, image_hc, &o, &err), 0);
	char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	bx_healthopts_free(h);
	return t;
}

static void flags_become_config(void **state)
{
	struct bx_healthopts h = {0};
	struct bx_err err;
	assert_int_equal(bx_healthopts_flag(&h, "health-cmd", "curl -f localhost", &err), 0);
	assert_int_equal(bx_healthopts_flag(&h, "health-interval", "5s", &err), 0);
	assert_int_equal(bx_healthopts_flag(&h, "health-timeout", "2s", &err), 0);
	assert_int_equal(bx_healthopts_flag(&h, "health-retries", "4", &err), 0);
	assert_int_equal(bx_healthopts_flag(&h, "health-start-period", "1m", &err), 0);
	assert_int_equal(bx_healthopts_check(&h, &err), 0);
	char *t = build(&h, NULL);
	assert_string_equal(t, "{\"Test\":[\"CMD-SHELL\",\"curl -f localhost\"],\"Interval\":5000000000,\"Timeout\":2000000000,"
			       "\"StartPeriod\":60000000000,\"Retries\":4}");
	free(t);
	/* nothing given, no image check: no Healthcheck at all */
	memset(&h, 0, sizeof(h));
	assert_null(build(&h, NULL));
	/* the image's, with a flag over one of its fields */
	memset(&h, 0, sizeof(h));
	assert_int_equal(bx_healthopts_flag(&h, "health-interval", "1s", &err), 0);
	t = build(&h, "{\"Test\":[\"CMD\",\"true\"],\"Interval\":30000000000,\"Retries\":2}");
	assert_string_equal(t, "{\"Test\":[\"CMD\",\"true\"],\"Interval\":1000000000,\"Retries\":2}");
	free(t);
	/* --no-healthcheck: Test NONE over the image's */
	memset(&h, 0, sizeof(h));
	assert_int_equal(bx_healthopts_flag(&h, "no-healthcheck", NULL, &err), 0);
	assert_int_equal(bx_healthopts_check(&h, &err), 0);
	t = build(&h, "{\"Test\":[\"CMD\",\"true\"]}");
	assert_string_equal(t, "{\"Test\":[\"NONE\"]}");
	free(t);
}

static void docker_errors(void **state)
{
	struct bx_healthopts h = {0};
	struct bx_err err;
	assert_int_equal(bx_healthopts_flag(&h, "health-interval", "abc", &err), -1);
	assert_string_equal(err.msg, "invalid argument \"abc\" for \"--health-interval\" flag: time: invalid duration \"abc\"");
	assert_int_equal(bx_healthopts_flag(&h, "health-retries", "x", &err), -1);
	assert_string_equal(err.msg,
			    "invalid argument \"x\" for \"--health-retries\" flag: strconv.ParseInt: parsing \"x\": invalid syntax");
	static const struct {
		const char *flag, *val, *msg;
	} bad[] = {
		{"health-interval", "-1s", "--health-interval cannot be negative"},
		{"health-timeout", "-1s", "--health-timeout cannot be negative"},
		{"health-retries", "-1", "--health-retries cannot be negative"},
		{"health-start-period", "-1s", "--health-start-period cannot be negative"},
		{"health-interval", "100us", "Interval in Healthcheck cannot be less than 1ms"},
		{"health-timeout", "100us", "Timeout in Healthcheck cannot be less than 1ms"},
		{"health-start-period", "100us", "StartPeriod in Healthcheck cannot be less than 1ms"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&h, 0, sizeof(h));
		assert_int_equal(bx_healthopts_flag(&h, bad[i].flag, bad[i].val, &err), 0);
		assert_int_equal(bx_healthopts_check(&h, &err), -1);
		assert_string_equal(err.msg, bad[i].msg);
	}
	memset(&h, 0, sizeof(h));
	assert_int_equal(bx_healthopts_flag(&h, "no-healthcheck", NULL, &err), 0);
	assert_int_equal(bx_healthopts_flag(&h, "health-retries", "2", &err), 0);
	assert_int_equal(bx_healthopts_check(&h, &err), -1);
	assert_string_equal(err.msg, "--no-healthcheck conflicts with --health-* options");
	/* zero values are "not given" (Docker's haveHealthSettings) */
	memset(&h, 0, sizeof(h));
	assert_int_equal(bx_healthopts_flag(&h, "no-healthcheck", NULL, &err), 0);
	assert_int_equal(bx_healthopts_flag(&h, "health-retries", "0", &err), 0);
	assert_int_equal(bx_healthopts_flag(&h, "health-cmd", "", &err), 0);
	assert_int_equal(bx_healthopts_check(&h, &err), 0);
	bx_healthopts_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flags_become_config),
		cmocka_unit_test(docker_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
