#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/msg.h"

static size_t put_msg(uint8_t *out, uint8_t kind, const char *payload)
{
	size_t len = strlen(payload);
	struct bx_err err;
	int n = bx_msg_encode(out, BX_MSG_HDR_SIZE + len, kind, payload, len, &err);
	assert_int_equal(n, (int)(BX_MSG_HDR_SIZE + len));
	return (size_t)n;
}

static void test_roundtrip_several(void **state)
{
	uint8_t wire[64];
	size_t n = put_msg(wire, BX_M_STDOUT, "hello");
	n += put_msg(wire + n, BX_M_STDIN_EOF, "");
	n += put_msg(wire + n, BX_M_STDERR, "oops");

	struct bx_msgbuf b;
	bx_msgbuf_init(&b);
	struct bx_err err;
	struct bx_msg m;
	assert_int_equal(bx_msgbuf_append(&b, wire, n, &err), 0);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
	assert_int_equal(m.kind, BX_M_STDOUT);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.payload, "hello", 5);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
	assert_int_equal(m.kind, BX_M_STDIN_EOF);
	assert_int_equal(m.len, 0);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
	assert_int_equal(m.kind, BX_M_STDERR);
	assert_memory_equal(m.payload, "oops", 4);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 0);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 0);
	bx_msgbuf_free(&b);
}

/* peek names the whole message at the front without taking it; partial
 * messages and the message next() handed out last are not "the front". */
static void test_peek_kind(void **state)
{
	uint8_t wire[64];
	size_t n = put_msg(wire, BX_M_STARTED, "1234");
	size_t n2 = put_msg(wire + n, BX_M_STDERR, "oops");
	struct bx_msgbuf b;
	bx_msgbuf_init(&b);
	struct bx_err err;
	struct bx_msg m;
	assert_int_equal(bx_msgbuf_peek_kind(&b), 0);
	assert_int_equal(bx_msgbuf_append(&b, wire, n - 1, &err), 0);
	assert_int_equal(bx_msgbuf_peek_kind(&b), 0); /* one byte short */
	assert_int_equal(bx_msgbuf_append(&b, wire + n - 1, 1 + n2 - 1, &err), 0);
	assert_int_equal(bx_msgbuf_peek_kind(&b), BX_M_STARTED);
	assert_int_equal(bx_msgbuf_peek_kind(&b), BX_M_STARTED); /* not taken */
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
	assert_int_equal(m.kind, BX_M_STARTED);
	assert_int_equal(bx_msgbuf_peek_kind(&b), 0); /* STDERR lacks a byte */
	assert_int_equal(bx_msgbuf_append(&b, wire + n + n2 - 1, 1, &err), 0);
	assert_int_equal(bx_msgbuf_peek_kind(&b), BX_M_STDERR);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
	assert_int_equal(m.kind, BX_M_STDERR);
	assert_memory_equal(m.payload, "oops", 4);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 0);
	uint8_t bad[BX_MSG_HDR_SIZE] = {0xee, 0, 0, 0, 0};
	assert_int_equal(bx_msgbuf_append(&b, bad, sizeof(bad), &err), -1);
	assert_int_equal(bx_msgbuf_peek_kind(&b), 0); /* malformed: nothing to peek */
	bx_msgbuf_free(&b);
}

/* Feed one byte at a time: every prefix must say "need more", never fail. */
static void test_truncated_byte_by_byte(void **state)
{
	uint8_t wire[64];
	size_t n = put_msg(wire, BX_M_ERROR, "no such file");
	n += put_msg(wire + n, BX_M_PONG, "");
	struct bx_msgbuf b;
	bx_msgbuf_init(&b);
	struct bx_err err;
	struct bx_msg m;
	int got = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(bx_msgbuf_append(&b, wire + i, 1, &err), 0);
		int r;
		while ((r = bx_msgbuf_next(&b, &m, &err)) == 1) {
			got++;
			if (got == 1) {
				assert_int_equal(i, BX_MSG_HDR_SIZE + 12 - 1);
				assert_int_equal(m.kind, BX_M_ERROR);
				assert_memory_equal(m.payload, "no such file", 12);
			} else {
				assert_int_equal(m.kind, BX_M_PONG);
			}
		}
		assert_int_equal(r, 0);
	}
	assert_int_equal(got, 2);
	bx_msgbuf_free(&b);
}

/* The payload of a returned message stays valid until the next call. */
static void test_payload_stable_until_next_call(void **state)
{
	uint8_t wire[32];
	size_t n = put_msg(wire, BX_M_STDOUT, "abc");
	n += put_msg(wire + n, BX_M_STDOUT, "def");
	struct bx_msgbuf b;
	bx_msgbuf_init(&b);
	struct bx_err err;
	struct bx_msg m;
	assert_int_equal(bx_msgbuf_append(&b, wire, n, &err), 0);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
	assert_memory_equal(m.payload, "abc", 3);
	assert_memory_equal(m.payload, "abc", 3);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
	assert_memory_equal(m.payload, "def", 3);
	/* an append after a pop drops the popped message */
	assert_int_equal(bx_msgbuf_append(&b, "", 0, &err), 0);
	assert_int_equal(bx_bytes_size(&b.q), 0);
	bx_msgbuf_free(&b);
}

static void test_oversized(void **state)
{
	uint8_t hdr[BX_MSG_HDR_SIZE];
	struct bx_msgbuf b;
	struct bx_err err = { 0 };
	struct bx_msg m;

	/* refused from the header alone, without buffering the payload */
	bx_msg_encode_hdr(hdr, BX_M_STDOUT, BX_MSG_MAX + 1);
	bx_msgbuf_init(&b);
	assert_int_equal(bx_msgbuf_append(&b, hdr, sizeof(hdr), &err), -1);
	assert_non_null(strstr(err.msg, "exceeds"));
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), -1);
	bx_msgbuf_free(&b);

	/* split header: fails once the header is complete */
	bx_msg_encode_hdr(hdr, BX_M_STDOUT, UINT32_MAX);
	bx_msgbuf_init(&b);
	assert_int_equal(bx_msgbuf_append(&b, hdr, 3, &err), 0);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 0);
	assert_int_equal(bx_msgbuf_append(&b, hdr + 3, 2, &err), -1);
	bx_msgbuf_free(&b);

	/* encoder refuses too */
	uint8_t small[8];
	assert_int_equal(bx_msg_encode(small, sizeof(small), BX_M_STDOUT, small, BX_MSG_MAX + 1, &err), -1);
	assert_int_equal(bx_msg_encode(small, sizeof(small), BX_M_STDOUT, "1234", 4, &err), -1);
}

static void test_max_size_ok(void **state)
{
	uint8_t *wire = malloc(BX_MSG_HDR_SIZE + BX_MSG_MAX);
	assert_non_null(wire);
	struct bx_err err;
	memset(wire + BX_MSG_HDR_SIZE, 'x', BX_MSG_MAX);
	assert_int_equal(bx_msg_encode(wire, BX_MSG_HDR_SIZE + BX_MSG_MAX, BX_M_STDOUT, wire + BX_MSG_HDR_SIZE,
				       BX_MSG_MAX, &err),
			 (int)(BX_MSG_HDR_SIZE + BX_MSG_MAX));
	struct bx_msgbuf b;
	bx_msgbuf_init(&b);
	struct bx_msg m;
	assert_int_equal(bx_msgbuf_append(&b, wire, BX_MSG_HDR_SIZE + BX_MSG_MAX - 1, &err), 0);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 0);
	assert_int_equal(bx_msgbuf_append(&b, wire + BX_MSG_HDR_SIZE + BX_MSG_MAX - 1, 1, &err), 0);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
	assert_int_equal(m.len, BX_MSG_MAX);
	bx_msgbuf_free(&b);
	free(wire);
}

static void test_bad_kind(void **state)
{
	uint8_t hdr[BX_MSG_HDR_SIZE];
	struct bx_err err;
	struct bx_msgbuf b;
	struct bx_msg m;
	uint8_t bad[] = { 0, BX_M_KIND_MAX + 1, 0xff };
	for (size_t i = 0; i < sizeof(bad); i++) {
		bx_msg_encode_hdr(hdr, bad[i], 0);
		bx_msgbuf_init(&b);
		assert_int_equal(bx_msgbuf_append(&b, hdr, sizeof(hdr), &err), -1);
		assert_int_equal(bx_msgbuf_next(&b, &m, &err), -1);
		bx_msgbuf_free(&b);
	}
}

/* A bad kind behind a good message in the same append is refused when it
 * reaches the front, never taken for the message handed out before it (a
 * kind-0 message was once dropped silently as "already consumed"). */
static void test_bad_kind_behind_a_good_one(void **state)
{
	uint8_t wire[32];
	struct bx_err err;
	struct bx_msgbuf b;
	struct bx_msg m;
	size_t n = put_msg(wire, BX_M_STDOUT, "abc");
	bx_msg_encode_hdr(wire + n, 0, 0);
	n += BX_MSG_HDR_SIZE;
	n += put_msg(wire + n, BX_M_STDOUT, "def");
	bx_msgbuf_init(&b);
	assert_int_equal(bx_msgbuf_append(&b, wire, n, &err), 0);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
	assert_memory_equal(m.payload, "abc", 3);
	assert_int_equal(bx_msgbuf_peek_kind(&b), 0);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), -1);
	assert_non_null(strstr(err.msg, "unknown message kind 0"));
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), -1); /* and stays refused */
	bx_msgbuf_free(&b);
}

/* TIME round-trips through the parser, little endian, all 64 bits (a time
 * past 2038 and one whose low word has the top bit set). */
static void test_time_roundtrip(void **state)
{
	const int64_t times[] = {1, 1795980000123456789LL, 4102444800999999999LL, 0x00000001ffffffffLL,
				 INT64_MAX};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		uint8_t payload[BX_MSG_TIME_SIZE], wire[BX_MSG_HDR_SIZE + BX_MSG_TIME_SIZE];
		struct bx_err err;
		bx_msg_time_encode(payload, times[i]);
		assert_int_equal(bx_msg_encode(wire, sizeof(wire), BX_M_TIME, payload, sizeof(payload), &err),
				 (int)sizeof(wire));
		struct bx_msgbuf b;
		struct bx_msg m;
		bx_msgbuf_init(&b);
		assert_int_equal(bx_msgbuf_append(&b, wire, sizeof(wire), &err), 0);
		assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
		assert_int_equal(m.kind, BX_M_TIME);
		int64_t ns = 0;
		assert_int_equal(bx_msg_time_decode(m.payload, m.len, &ns, &err), 0);
		assert_true(ns == times[i]);
		bx_msgbuf_free(&b);
	}
	uint8_t le[BX_MSG_TIME_SIZE];
	bx_msg_time_encode(le, 0x0102030405060708LL);
	assert_memory_equal(le, "\x08\x07\x06\x05\x04\x03\x02\x01", BX_MSG_TIME_SIZE);
}

/* The agent sets its clock from this: anything but exactly 8 bytes of a
 * positive time is refused. */
static void test_time_rejects(void **state)
{
	uint8_t p[BX_MSG_TIME_SIZE + 1] = {0};
	struct bx_err err;
	int64_t ns = 42;
	bx_msg_time_encode(p, 1700000000000000000LL);
	assert_int_equal(bx_msg_time_decode(p, 0, &ns, &err), -1);
	assert_int_equal(bx_msg_time_decode(p, BX_MSG_TIME_SIZE - 1, &ns, &err), -1);
	assert_int_equal(bx_msg_time_decode(p, BX_MSG_TIME_SIZE + 1, &ns, &err), -1);
	assert_int_equal(ns, 42);
	bx_msg_time_encode(p, 0);
	assert_int_equal(bx_msg_time_decode(p, BX_MSG_TIME_SIZE, &ns, &err), -1);
	bx_msg_time_encode(p, -1);
	assert_int_equal(bx_msg_time_decode(p, BX_MSG_TIME_SIZE, &ns, &err), -1);
	assert_int_equal(ns, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_several),
		cmocka_unit_test(test_truncated_byte_by_byte),
		cmocka_unit_test(test_peek_kind),
		cmocka_unit_test(test_payload_stable_until_next_call),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_max_size_ok),
		cmocka_unit_test(test_bad_kind),
		cmocka_unit_test(test_bad_kind_behind_a_good_one),
		cmocka_unit_test(test_time_roundtrip),
		cmocka_unit_test(test_time_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
