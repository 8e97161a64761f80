/* The growable byte queue (src/common/bytes.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"

static void test_push_pop_keeps_order(void **state)
{
	struct bx_bytes q = {0};
	struct bx_err err;
	assert_int_equal(bx_bytes_size(&q), 0);
	assert_null(bx_bytes_data(&q));
	assert_int_equal(bx_bytes_push(&q, "hello ", 6, &err), 0);
	assert_int_equal(bx_bytes_push(&q, "world", 5, &err), 0);
	assert_int_equal(bx_bytes_size(&q), 11);
	assert_memory_equal(bx_bytes_data(&q), "hello world", 11);
	bx_bytes_pop(&q, 6);
	assert_memory_equal(bx_bytes_data(&q), "world", 5);
	bx_bytes_pop(&q, 100); /* more than queued: everything */
	assert_int_equal(bx_bytes_size(&q), 0);
	assert_int_equal(q.off, 0); /* an empty queue starts over at the front */
	bx_bytes_free(&q);
	assert_null(q.buf);
}

static void test_reserve_compacts_before_growing(void **state)
{
	struct bx_bytes q = {0};
	struct bx_err err;
	uint8_t block[3000];
	memset(block, 'a', sizeof(block));
	assert_int_equal(bx_bytes_push(&q, block, sizeof(block), &err), 0);
	assert_int_equal(q.cap, 4096);
	bx_bytes_pop(&q, 2000);
	/* 1000 queued at offset 2000: 3000 more fit once compacted, no growth */
	uint8_t *at = bx_bytes_reserve(&q, 3000, &err);
	assert_non_null(at);
	assert_int_equal(q.cap, 4096);
	assert_int_equal(q.off, 0);
	memset(at, 'b', 3000);
	bx_bytes_commit(&q, 3000);
	assert_int_equal(bx_bytes_size(&q), 4000);
	assert_int_equal(bx_bytes_data(&q)[999], 'a');
	assert_int_equal(bx_bytes_data(&q)[1000], 'b');
	/* then it doubles */
	assert_non_null(bx_bytes_reserve(&q, 5000, &err));
	assert_int_equal(q.cap, 16384);
	assert_int_equal(bx_bytes_data(&q)[0], 'a');
	bx_bytes_free(&q);
}

static void test_absurd_size_fails_with_the_reason(void **state)
{
	struct bx_bytes q = {0};
	struct bx_err err = {0};
	assert_int_equal(bx_bytes_push(&q, "x", 1, &err), 0);
	assert_null(bx_bytes_reserve(&q, SIZE_MAX - 8, &err));
	assert_int_equal(err.errnum, ENOMEM);
	assert_non_null(strstr(err.msg, "byte queue"));
	assert_int_equal(bx_bytes_size(&q), 1); /* what was queued is kept */
	bx_bytes_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_pop_keeps_order),
		cmocka_unit_test(test_reserve_compacts_before_growing),
		cmocka_unit_test(test_absurd_size_fails_with_the_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
