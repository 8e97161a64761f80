/* Layer chain ids (OCI image spec) and a layer's diff id. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/layercache.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void test_base_layer_chain_is_its_diff_id(void **state)
{
	char *ids[] = {D1};
	char out[BX_DIGEST_SIZE];
	struct bx_err err;
	assert_int_equal(bx_chain_id(ids, 1, out, &err), 0);
	assert_string_equal(out, D1);
}

static void test_chain_is_sha256_of_parent_space_diff(void **state)
{
	char *ids[] = {D1, D2, D3};
	char out[BX_DIGEST_SIZE], step[BX_DIGEST_SIZE], want[BX_DIGEST_SIZE];
	struct bx_err err;
	/* chain(L1) = sha256(D1 + " " + D2), computed independently here */
	const char *s = D1 " " D2;
	assert_int_equal(bx_sha256_buf(s, strlen(s), want, &err), 0);
	assert_int_equal(bx_chain_id(ids, 2, out, &err), 0);
	assert_string_equal(out, want);
	/* and one more link */
	char buf[160];
	snprintf(buf, sizeof(buf), "%s %s", want, D3);
	assert_int_equal(bx_sha256_buf(buf, strlen(buf), step, &err), 0);
	assert_int_equal(bx_chain_id(ids, 3, out, &err), 0);
	assert_string_equal(out, step);
	/* order matters */
	char *swapped[] = {D2, D1};
	assert_int_equal(bx_chain_id(swapped, 2, out, &err), 0);
	assert_string_not_equal(out, want);
}

static void test_invalid_input_is_refused(void **state)
{
	char *bad[] = {D1, "sha256:xyz"};
	char out[BX_DIGEST_SIZE];
	struct bx_err err;
	assert_int_equal(bx_chain_id(bad, 2, out, &err), -1);
	assert_non_null(strstr(err.msg, "sha256:xyz"));
	assert_int_equal(bx_chain_id(bad, 0, out, &err), -1);
}

/* The diff id hashes the uncompressed bytes: a gzip of a file has the file's sha256. */
static void test_diff_id_of_gzip_layer(void **state)
{
	char dir[] = "/tmp/bx-lc.XXXXXX", plain[64], gz[64], cmd[256];
	assert_non_null(mkdtemp(dir));
	snprintf(plain, sizeof(plain), "%s/layer.tar", dir);
	snprintf(gz, sizeof(gz), "%s/layer.tar.gz", dir);
	snprintf(cmd, sizeof(cmd), "cd %s && mkdir d && echo hi > d/f && tar cf layer.tar d && gzip -kn layer.tar", dir);
	assert_int_equal(system(cmd), 0);
	char a[BX_DIGEST_SIZE], b[BX_DIGEST_SIZE], want[BX_DIGEST_SIZE];
	struct bx_err err;
	char *text;
	size_t len;
	assert_int_equal(bx_read_file(plain, &text, &len, &err), 0);
	assert_int_equal(bx_sha256_buf(text, len, want, &err), 0);
	free(text);
	assert_int_equal(bx_layer_diff_id(plain, a, &err), 0);
	assert_int_equal(bx_layer_diff_id(gz, b, &err), 0);
	assert_string_equal(a, want);
	assert_string_equal(b, want);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_layer_chain_is_its_diff_id),
		cmocka_unit_test(test_chain_is_sha256_of_parent_space_diff),
		cmocka_unit_test(test_invalid_input_is_refused),
		cmocka_unit_test(test_diff_id_of_gzip_layer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
