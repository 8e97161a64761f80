/* bx_image_config_parse and bx_image_ref_normalize: pure parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "image/image.h"

static int parse(const char *json, struct bx_image_config *c, struct bx_err *err)
{
	return bx_image_config_parse(json, strlen(json), c, err);
}

static void test_full(void **state)
{
	struct bx_image_config c;
	struct bx_err err = {0};
	assert_int_equal(parse("{\"architecture\":\"amd64\",\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],"
			       "\"Cmd\":[\"echo hi\"],\"Env\":[\"PATH=/bin\",\"A=b=c\"],\"WorkingDir\":\"/srv\","
			       "\"User\":\"app:staff\",\"StopSignal\":\"SIGQUIT\",\"Labels\":{\"x\":\"y\"}}}",
			       &c, &err),
			 0);
	assert_string_equal(c.entrypoint[0], "/bin/sh");
	assert_string_equal(c.entrypoint[1], "-c");
	assert_null(c.entrypoint[2]);
	assert_string_equal(c.cmd[0], "echo hi");
	assert_null(c.cmd[1]);
	assert_string_equal(c.env[1], "A=b=c");
	assert_string_equal(c.workdir, "/srv");
	assert_string_equal(c.user, "app:staff");
	assert_string_equal(c.stop_signal, "SIGQUIT");
	bx_image_config_free(&c);
	assert_null(c.cmd);
	bx_image_config_free(&c); /* twice is harmless */
}

static void test_nulls_and_absent(void **state)
{
	struct bx_image_config c;
	struct bx_err err = {0};
	const char *cases[] = {
		"{}",
		"{\"config\":null}",
		"{\"config\":{}}",
		"{\"config\":{\"Entrypoint\":null,\"Cmd\":null,\"Env\":null,\"WorkingDir\":\"\",\"User\":\"\","
		"\"StopSignal\":null}}",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i], &c, &err), 0);
		assert_null(c.entrypoint);
		assert_null(c.cmd);
		assert_null(c.env);
		assert_null(c.workdir);
		assert_null(c.user);
		assert_null(c.stop_signal);
		bx_image_config_free(&c);
	}
	/* an explicit empty list is kept distinct from absent */
	assert_int_equal(parse("{\"config\":{\"Entrypoint\":[]}}", &c, &err), 0);
	assert_non_null(c.entrypoint);
	assert_null(c.entrypoint[0]);
	bx_image_config_free(&c);
}

static void test_bad(void **state)
{
	struct bx_image_config c;
	struct bx_err err = {0};
	assert_int_equal(parse("{\"config\":", &c, &err), -1);
	assert_non_null(strstr(err.msg, "not valid JSON"));
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(parse("[1,2]", &c, &err), -1);
	assert_int_equal(parse("{\"config\":[]}", &c, &err), -1);
	assert_int_equal(parse("{\"config\":{\"Cmd\":\"sh\"}}", &c, &err), -1);
	assert_non_null(strstr(err.msg, "Cmd"));
	assert_int_equal(parse("{\"config\":{\"Env\":[\"A=1\",2]}}", &c, &err), -1);
	assert_non_null(strstr(err.msg, "Env"));
	assert_null(c.env); /* nothing leaks out on failure */
	assert_int_equal(parse("{\"config\":{\"User\":1000}}", &c, &err), -1);
	assert_non_null(strstr(err.msg, "User"));
	assert_int_equal(parse("{\"config\":{\"Volumes\":[\"/data\"]}}", &c, &err), -1);
	assert_non_null(strstr(err.msg, "Volumes"));
	/* each is a volume and a virtiofsd per box: bounded */
	char many[2048] = "{\"config\":{\"Volumes\":{";
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s\"/v%d\":{}", i ? "," : "", i);
	strcat(many, "}}}");
	assert_int_equal(parse(many, &c, &err), -1);
	assert_non_null(strstr(err.msg, "more than 16 Volumes"));
}

static void test_volumes(void **state)
{
	struct bx_image_config c;
	struct bx_err err = {0};
	assert_int_equal(parse("{\"config\":{\"Volumes\":{\"/data\":{},\"/var/log\":{}}}}", &c, &err), 0);
	assert_string_equal(c.volumes[0], "/data");
	assert_string_equal(c.volumes[1], "/var/log");
	assert_null(c.volumes[2]);
	bx_image_config_free(&c);
	assert_int_equal(parse("{\"config\":{\"Volumes\":null}}", &c, &err), 0);
	assert_null(c.volumes);
}

/* Labels describe an image (prune's label= filters read them); a value that
 * is not a string is left out rather than making the image unusable */
static void test_labels(void **state)
{
	struct bx_image_config c;
	struct bx_err err = {0};
	assert_int_equal(parse("{\"config\":{\"Labels\":{\"a\":\"1\",\"bad\":2,\"b\":\"x=y\"}}}", &c, &err), 0);
	assert_string_equal(c.labels[0], "a=1");
	assert_string_equal(c.labels[1], "b=x=y");
	assert_null(c.labels[2]);
	bx_image_config_free(&c);
	assert_int_equal(parse("{\"config\":{\"Labels\":null}}", &c, &err), 0);
	assert_null(c.labels);
	assert_int_equal(parse("{\"config\":{\"Labels\":[\"a\"]}}", &c, &err), 0);
	assert_null(c.labels);
}

static void norm_ok(const char *in, const char *want)
{
	char out[256];
	struct bx_err err = {0};
	if (bx_image_ref_normalize(in, out, sizeof(out), &err) < 0)
		fail_msg("%s: %s", in, err.msg);
	assert_string_equal(out, want);
}

static void test_ref_normalize(void **state)
{
	norm_ok("busybox", "busybox:latest");
	norm_ok("busybox:1.35", "busybox:1.35");
	norm_ok("docker.io/library/busybox:latest", "busybox:latest");
	norm_ok("docker.io/me/app", "me/app:latest");
	norm_ok("localhost:5000/app", "localhost:5000/app:latest");
	norm_ok("127.0.0.1:5000/a/b:v1", "127.0.0.1:5000/a/b:v1");
	norm_ok("busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	char out[256];
	struct bx_err err = {0};
	assert_int_equal(bx_image_ref_normalize("", out, sizeof(out), &err), -1);
	assert_int_equal(bx_image_ref_normalize("BusyBox", out, sizeof(out), &err), -1);
	assert_non_null(strstr(err.msg, "lowercase"));
	assert_int_equal(bx_image_ref_normalize("busybox:", out, sizeof(out), &err), -1);
	assert_int_equal(bx_image_ref_normalize("a b", out, sizeof(out), &err), -1);
	assert_int_equal(bx_image_ref_normalize("busybox@sha256:12", out, sizeof(out), &err), -1);
	assert_int_equal(bx_image_ref_normalize("busybox", out, 8, &err), -1);
}

static void test_digest_valid(void **state)
{
	assert_true(bx_digest_valid("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(bx_digest_valid("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(bx_digest_valid("sha256:0123"));
	assert_false(bx_digest_valid("sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(bx_digest_valid("sha256:../../../../etc/passwd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),         cmocka_unit_test(test_nulls_and_absent),
		cmocka_unit_test(test_bad),          cmocka_unit_test(test_ref_normalize),
		cmocka_unit_test(test_digest_valid), cmocka_unit_test(test_volumes),
		cmocka_unit_test(test_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
