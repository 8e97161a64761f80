/* Watching a session message stream go by: wanted kinds whole, others skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/msgscan.h"

struct got {
	int n;
	uint8_t kinds[8];
	uint32_t lens[8];
	char first[16];
};

static void on_msg(void *ctx, uint8_t kind, const uint8_t *payload, uint32_t len)
{
	struct got *g = ctx;
	if (g->n == 0)
		memcpy(g->first, payload, len < sizeof(g->first) - 1 ? len : sizeof(g->first) - 1);
	g->kinds[g->n] = kind;
	g->lens[g->n++] = len;
}

static size_t put(uint8_t *out, uint8_t kind, const void *payload, uint32_t len)
{
	bx_msg_encode_hdr(out, kind, len);
	memcpy(out + BX_MSG_HDR_SIZE, payload, len);
	return BX_MSG_HDR_SIZE + len;
}

static void test_scan(void **state)
{
	static uint8_t stream[300000], big[200000];
	memset(big, 'x', sizeof(big));
	size_t n = 0;
	n += put(stream + n, BX_M_REQ, "request", 7);
	n += put(stream + n, BX_M_STDOUT, big, sizeof(big)); /* skipped, never held */
	n += put(stream + n, BX_M_STARTED, "\x01\0\0\0", 4);
	n += put(stream + n, BX_M_STDIN_EOF, "", 0);
	n += put(stream + n, BX_M_EXIT, "\x03\0\0\0", 4);
	uint32_t want = (1u << BX_M_REQ) | (1u << BX_M_STARTED) | (1u << BX_M_EXIT);
	/* whole, and in every chunk size down to one byte */
	static const size_t chunks[] = {sizeof(stream), 4096, 7, 1};
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct bx_msgscan s;
		struct got g = {0};
		bx_msgscan_init(&s, want, BX_MSG_MAX);
		for (size_t off = 0; off < n; off += chunks[c])
			bx_msgscan_feed(&s, stream + off, n - off < chunks[c] ? n - off : chunks[c], on_msg, &g);
		assert_int_equal(g.n, 3);
		assert_int_equal(g.kinds[0], BX_M_REQ);
		assert_string_equal(g.first, "request");
		assert_int_equal(g.kinds[1], BX_M_STARTED);
		assert_int_equal(g.kinds[2], BX_M_EXIT);
		assert_int_equal(g.lens[2], 4);
		assert_false(s.broken);
		assert_null(s.buf); /* nothing held between messages */
		bx_msgscan_free(&s);
	}
}

static void test_not_a_stream(void **state)
{
	uint8_t hdr[BX_MSG_HDR_SIZE];
	bx_msg_encode_hdr(hdr, BX_M_REQ, BX_MSG_MAX + 1);
	struct bx_msgscan s;
	struct got g = {0};
	bx_msgscan_init(&s, 1u << BX_M_REQ, BX_MSG_MAX);
	bx_msgscan_feed(&s, hdr, sizeof(hdr), on_msg, &g);
	assert_true(s.broken);
	uint8_t more[64];
	size_t n = put(more, BX_M_REQ, "x", 1);
	bx_msgscan_feed(&s, more, n, on_msg, &g); /* nothing more is seen */
	assert_int_equal(g.n, 0);
	bx_msgscan_free(&s);
}

/* a payload over the bound is skipped whole, never held: the next message is still seen */
static void test_bound(void **state)
{
	uint8_t stream[256];
	size_t n = put(stream, BX_M_EXIT, "12345678", 8);
	n += put(stream + n, BX_M_EXIT, "\x07\0\0\0", 4);
	struct bx_msgscan s;
	struct got g = {0};
	bx_msgscan_init(&s, 1u << BX_M_EXIT, 4);
	for (size_t i = 0; i < n; i++) {
		bx_msgscan_feed(&s, stream + i, 1, on_msg, &g);
		assert_true(!s.buf || s.len <= 4);
	}
	assert_int_equal(g.n, 1);
	assert_int_equal(g.lens[0], 4);
	assert_int_equal(g.first[0], 7);
	bx_msgscan_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_not_a_stream),
		cmocka_unit_test(test_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
