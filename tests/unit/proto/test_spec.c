#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/frame.h"
#include "proto/spec.h"

static void fill(struct bx_spec *s)
{
	struct bx_err err;
	bx_spec_init(s);
	char buf[64];
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), "arg-%d", i);
		assert_int_equal(bx_spec_add_arg(s, i == 50 ? "" : buf, &err), 0);
	}
	for (int i = 0; i < 70; i++) {
		snprintf(buf, sizeof(buf), "K%d=v %d", i, i);
		assert_int_equal(bx_spec_add_env(s, buf, &err), 0);
	}
	assert_int_equal(bx_spec_set_cwd(s, "/work dir", &err), 0);
	assert_int_equal(bx_spec_set_user(s, "1000:1000", &err), 0);
	assert_int_equal(bx_spec_set_hostname(s, "box1", &err), 0);
	s->tty = true;
	s->stdin_open = true;
	s->exact = true;
	s->accept_delay_ms = 1500;
	s->timeout_ms = 0xdeadbeef;
}

static void encode(const struct bx_spec *s, uint8_t **buf, size_t *len)
{
	struct bx_err err;
	assert_int_equal(bx_spec_encode(s, buf, len, &err), 0);
}

static void test_roundtrip(void **state)
{
	struct bx_spec s, d;
	fill(&s);
	uint8_t *buf;
	size_t len;
	encode(&s, &buf, &len);
	struct bx_err err;
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, buf, len, &err), 0);
	assert_int_equal(d.nargs, 100);
	assert_int_equal(d.nenv, 70);
	for (size_t i = 0; i < d.nargs; i++)
		assert_string_equal(d.args[i], s.args[i]);
	assert_null(d.args[d.nargs]);
	for (size_t i = 0; i < d.nenv; i++)
		assert_string_equal(d.env[i], s.env[i]);
	assert_null(d.env[d.nenv]);
	assert_string_equal(d.cwd, "/work dir");
	assert_string_equal(d.user, "1000:1000");
	assert_string_equal(d.hostname, "box1");
	assert_true(d.tty);
	assert_true(d.stdin_open);
	assert_true(d.exact);
	assert_int_equal(d.accept_delay_ms, 1500);
	assert_int_equal(d.timeout_ms, 0xdeadbeef);
	bx_spec_free(&d);
	bx_spec_free(&s);
	free(buf);
}

static void test_minimal_defaults(void **state)
{
	struct bx_spec s, d;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_spec_add_arg(&s, "true", &err), 0);
	uint8_t *buf;
	size_t len;
	encode(&s, &buf, &len);
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, buf, len, &err), 0);
	assert_int_equal(d.nargs, 1);
	assert_int_equal(d.nenv, 0);
	assert_null(d.cwd);
	assert_null(d.user);
	assert_null(d.hostname);
	assert_false(d.tty);
	assert_false(d.stdin_open);
	assert_false(d.exact);
	assert_int_equal(d.timeout_ms, 0);
	bx_spec_free(&d);
	bx_spec_free(&s);
	free(buf);
}

/* Every proper prefix that cuts a record must fail and leave the spec empty;
 * prefixes ending on a record boundary before the first ARG fail as "missing
 * args", others may decode fine (records are self-delimiting). */
static void test_truncation_at_every_length(void **state)
{
	struct bx_spec s;
	fill(&s);
	uint8_t *buf;
	size_t len;
	encode(&s, &buf, &len);
	/* record boundaries */
	size_t nb = 0, *bounds = calloc(len + 1, sizeof(size_t));
	for (size_t off = 0; off < len; off += 6 + bx_get_u32(buf + off + 2))
		bounds[nb++] = off;
	size_t b = 0;
	for (size_t n = 0; n < len; n++) {
		bool on_boundary = b < nb && bounds[b] == n;
		if (on_boundary)
			b++;
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan catches overreads */
		memcpy(copy, buf, n);
		struct bx_spec d;
		struct bx_err err = { 0 };
		bx_spec_init(&d);
		int r = bx_spec_decode(&d, copy, n, &err);
		if (!on_boundary || n == 0) {
			assert_int_equal(r, -1);
			assert_int_equal(d.nargs, 0);
			assert_null(d.args);
			assert_null(d.cwd);
			assert_true(err.msg[0] != '\0');
		} else {
			assert_int_equal(r, 0); /* a shorter but well-formed spec */
		}
		bx_spec_free(&d);
		free(copy);
	}
	free(bounds);
	bx_spec_free(&s);
	free(buf);
}

static size_t rec(uint8_t *p, uint16_t tag, const void *data, uint32_t len)
{
	bx_put_u16(p, tag);
	bx_put_u32(p + 2, len);
	memcpy(p + 6, data, len);
	return 6 + len;
}

static int decode_raw(const uint8_t *buf, size_t len, char *msg, size_t msgsz)
{
	struct bx_spec d;
	struct bx_err err = { 0 };
	bx_spec_init(&d);
	int r = bx_spec_decode(&d, buf, len, &err);
	if (msg)
		snprintf(msg, msgsz, "%s", err.msg);
	bx_spec_free(&d);
	return r;
}

static void test_unknown_tag(void **state)
{
	uint8_t buf[64];
	size_t n = rec(buf, BX_T_ARG, "ls", 2);
	n += rec(buf + n, BX_T_MAX + 1, "x", 1);
	char msg[1024];
	assert_int_equal(decode_raw(buf, n, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "unknown tag"));
	n = rec(buf, 0, "", 0);
	n += rec(buf + n, BX_T_ARG, "ls", 2);
	assert_int_equal(decode_raw(buf, n, NULL, 0), -1);
}

static void test_missing_args(void **state)
{
	uint8_t buf[64];
	size_t n = rec(buf, BX_T_ENV, "A=B", 3);
	n += rec(buf + n, BX_T_CWD, "/", 1);
	char msg[1024];
	assert_int_equal(decode_raw(buf, n, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "missing arguments"));
	assert_int_equal(decode_raw(buf, 0, NULL, 0), -1);

	/* and the encoder refuses to produce one */
	struct bx_spec s;
	struct bx_err err;
	bx_spec_init(&s);
	uint8_t *out = NULL;
	size_t len;
	assert_int_equal(bx_spec_encode(&s, &out, &len, &err), -1);
	assert_null(out);
}

static void test_malformed_records(void **state)
{
	uint8_t buf[64];
	size_t n;
	n = rec(buf, BX_T_ARG, "a\0b", 3); /* embedded NUL */
	assert_int_equal(decode_raw(buf, n, NULL, 0), -1);
	n = rec(buf, BX_T_ARG, "a", 1);
	n += rec(buf + n, BX_T_TTY, "\x02", 1); /* not 0/1 */
	assert_int_equal(decode_raw(buf, n, NULL, 0), -1);
	n = rec(buf, BX_T_ARG, "a", 1);
	n += rec(buf + n, BX_T_TIMEOUT_MS, "\x01\x02", 2); /* short u32 */
	assert_int_equal(decode_raw(buf, n, NULL, 0), -1);
	n = rec(buf, BX_T_ARG, "a", 1);
	n += rec(buf + n, BX_T_CWD, "/a", 2);
	n += rec(buf + n, BX_T_CWD, "/b", 2); /* duplicate */
	assert_int_equal(decode_raw(buf, n, NULL, 0), -1);
	/* a length that runs past the end (and would overflow naive arithmetic) */
	n = rec(buf, BX_T_ARG, "a", 1);
	bx_put_u16(buf + n, BX_T_ARG);
	bx_put_u32(buf + n + 2, UINT32_MAX);
	assert_int_equal(decode_raw(buf, n + 6, NULL, 0), -1);
}

static void test_set_replaces_and_unsets(void **state)
{
	struct bx_spec s;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_spec_set_cwd(&s, "/a", &err), 0);
	assert_int_equal(bx_spec_set_cwd(&s, "/b", &err), 0);
	assert_string_equal(s.cwd, "/b");
	assert_int_equal(bx_spec_set_cwd(&s, NULL, &err), 0);
	assert_null(s.cwd);
	bx_spec_free(&s);
	bx_spec_free(&s); /* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_truncation_at_every_length),
		cmocka_unit_test(test_unknown_tag),
		cmocka_unit_test(test_missing_args),
		cmocka_unit_test(test_malformed_records),
		cmocka_unit_test(test_set_replaces_and_unsets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
