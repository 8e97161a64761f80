#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/frame.h"

static void test_roundtrip(void **state)
{
	uint8_t buf[BX_FRAME_HDR_SIZE + 5];
	bx_frame_encode_hdr(buf, 0x01020304u, BX_F_DATA, 5);
	memcpy(buf + BX_FRAME_HDR_SIZE, "hello", 5);
	/* little-endian layout as documented */
	assert_int_equal(buf[0], 0x04);
	assert_int_equal(buf[3], 0x01);
	assert_int_equal(buf[4], BX_F_DATA);
	assert_int_equal(buf[5], 0);
	assert_int_equal(buf[8], 5);

	struct bx_frame f;
	struct bx_err err;
	assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), (int)sizeof(buf));
	assert_int_equal(f.chan, 0x01020304u);
	assert_int_equal(f.type, BX_F_DATA);
	assert_int_equal(f.len, 5);
	assert_memory_equal(f.payload, "hello", 5);
}

static void test_empty_payload_and_trailing_bytes(void **state)
{
	uint8_t buf[BX_FRAME_HDR_SIZE * 2];
	bx_frame_encode_hdr(buf, 3, BX_F_EOF, 0);
	bx_frame_encode_hdr(buf + BX_FRAME_HDR_SIZE, 3, BX_F_CLOSE, 0);
	struct bx_frame f;
	struct bx_err err;
	/* only the first frame is consumed */
	assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), BX_FRAME_HDR_SIZE);
	assert_int_equal(f.type, BX_F_EOF);
	assert_int_equal(bx_frame_decode(buf + BX_FRAME_HDR_SIZE, BX_FRAME_HDR_SIZE, &f, &err),
			 BX_FRAME_HDR_SIZE);
	assert_int_equal(f.type, BX_F_CLOSE);
}

static void test_every_prefix_is_truncated(void **state)
{
	uint8_t buf[BX_FRAME_HDR_SIZE + 100];
	bx_frame_encode_hdr(buf, 7, BX_F_DATA, 100);
	memset(buf + BX_FRAME_HDR_SIZE, 0xab, 100);
	struct bx_frame f;
	struct bx_err err;
	for (size_t n = 0; n < sizeof(buf); n++)
		assert_int_equal(bx_frame_decode(buf, n, &f, &err), 0);
	assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), (int)sizeof(buf));
}

static void test_max_payload_ok(void **state)
{
	static uint8_t buf[BX_FRAME_HDR_SIZE + BX_FRAME_MAX_PAYLOAD];
	bx_frame_encode_hdr(buf, 1, BX_F_DATA, BX_FRAME_MAX_PAYLOAD);
	struct bx_frame f;
	struct bx_err err;
	assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), (int)sizeof(buf));
	assert_int_equal(f.len, BX_FRAME_MAX_PAYLOAD);
}

static void test_oversized_rejected_from_header(void **state)
{
	uint8_t buf[BX_FRAME_HDR_SIZE];
	bx_frame_encode_hdr(buf, 1, BX_F_DATA, BX_FRAME_MAX_PAYLOAD + 1);
	struct bx_frame f;
	struct bx_err err = { 0 };
	/* refused as soon as the header is complete, without the payload */
	assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), -1);
	assert_non_null(strstr(err.msg, "exceeds"));
	bx_frame_encode_hdr(buf, 1, BX_F_DATA, UINT32_MAX);
	assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), -1);
}

static void test_bad_type(void **state)
{
	uint8_t buf[BX_FRAME_HDR_SIZE];
	struct bx_frame f;
	struct bx_err err;
	bx_frame_encode_hdr(buf, 1, 0, 0);
	assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), -1);
	bx_frame_encode_hdr(buf, 1, BX_F_TYPE_MAX + 1, 0);
	assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), -1);
	bx_frame_encode_hdr(buf, 1, 0xff, 0);
	assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), -1);
	for (uint8_t t = 1; t <= BX_F_TYPE_MAX; t++) {
		bx_frame_encode_hdr(buf, 1, t, 0);
		assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), BX_FRAME_HDR_SIZE);
	}
}

static void test_nonzero_reserved(void **state)
{
	uint8_t buf[BX_FRAME_HDR_SIZE];
	struct bx_frame f;
	struct bx_err err;
	for (int i = 5; i <= 7; i++) { /* flags, reserved lo, reserved hi */
		bx_frame_encode_hdr(buf, 1, BX_F_CLOSE, 0);
		buf[i] = 1;
		assert_int_equal(bx_frame_decode(buf, sizeof(buf), &f, &err), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_empty_payload_and_trailing_bytes),
		cmocka_unit_test(test_every_prefix_is_truncated),
		cmocka_unit_test(test_max_payload_ok),
		cmocka_unit_test(test_oversized_rejected_from_header),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_nonzero_reserved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
