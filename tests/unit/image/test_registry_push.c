/* Pure parts of a push: the token scope it asks for and where an upload's
 * Location may lead (back to the registry the request went to, only). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "image/registry/registry.h"

static void test_scope(void **state)
{
	char out[128];
	struct bx_err err = {0};
	assert_int_equal(bx_registry_scope("x/busybox", true, out, sizeof(out), &err), 0);
	assert_string_equal(out, "repository:x/busybox:pull,push");
	assert_int_equal(bx_registry_scope("library/busybox", false, out, sizeof(out), &err), 0);
	assert_string_equal(out, "repository:library/busybox:pull");
	/* a name that would smuggle another scope or action in is refused */
	assert_int_equal(bx_registry_scope("a b", true, out, sizeof(out), &err), -1);
	assert_int_equal(bx_registry_scope("a:push", false, out, sizeof(out), &err), -1);
	assert_int_equal(bx_registry_scope("", false, out, sizeof(out), &err), -1);
	char small[20];
	assert_int_equal(bx_registry_scope("x/busybox", true, small, sizeof(small), &err), -1);
	assert_non_null(strstr(err.msg, "too long"));
}

static const char *const REQ = "http://127.0.0.1:5000/v2/x/busybox/blobs/uploads/";

static void expect_location(const char *loc, const char *want)
{
	char out[256];
	struct bx_err err = {0};
	int rc = bx_registry_location(REQ, loc, out, sizeof(out), &err);
	if (rc != 0)
		fail_msg("%s: %s", loc, err.msg);
	assert_string_equal(out, want);
}

static void expect_refused(const char *req, const char *loc, const char *why)
{
	char out[256];
	struct bx_err err = {0};
	assert_int_equal(bx_registry_location(req, loc, out, sizeof(out), &err), -1);
	if (!strstr(err.msg, why))
		fail_msg("%s: '%s' lacks '%s'", loc, err.msg, why);
}

static void test_location_on_the_registry(void **state)
{
	/* a path: on the host the request went to */
	expect_location("/v2/x/busybox/blobs/uploads/u-1?_state=abc",
			"http://127.0.0.1:5000/v2/x/busybox/blobs/uploads/u-1?_state=abc");
	/* an absolute URL on the same scheme, host and port (host case aside) */
	expect_location("http://127.0.0.1:5000/v2/x/busybox/blobs/uploads/u-2",
			"http://127.0.0.1:5000/v2/x/busybox/blobs/uploads/u-2");
	char out[256];
	struct bx_err err = {0};
	assert_int_equal(bx_registry_location("https://Registry.example/v2/a/blobs/uploads/",
					      "https://registry.EXAMPLE/v2/a/blobs/uploads/u", out, sizeof(out), &err),
			 0);
	assert_string_equal(out, "https://registry.EXAMPLE/v2/a/blobs/uploads/u");
	/* a default port written out is the same server */
	assert_int_equal(bx_registry_location("https://r.example/v2/a/blobs/uploads/", "https://r.example:443/v2/a/u", out,
					      sizeof(out), &err),
			 0);
	assert_int_equal(bx_registry_location("http://r.example:80/v2/a/blobs/uploads/", "http://r.example/v2/a/u", out,
					      sizeof(out), &err),
			 0);
}

static void test_location_elsewhere_refused(void **state)
{
	expect_refused(REQ, "http://127.0.0.1:5001/v2/x/busybox/blobs/uploads/u", "leads away"); /* another port */
	expect_refused(REQ, "http://evil.example/v2/u", "leads away");
	expect_refused(REQ, "http://127.0.0.1:5000.evil.example/v2/u", "leads away");
	expect_refused(REQ, "https://127.0.0.1:5000/v2/u", "leads away"); /* another scheme */
	expect_refused("https://r.example/v2/a/blobs/uploads/", "http://r.example/v2/u", "leads away"); /* a downgrade */
	expect_refused(REQ, "http://user@127.0.0.1:5000/v2/u", "leads away");
	expect_refused(REQ, "http://127.0.0.1/v2/u", "leads away"); /* the default port is not 5000 */
	expect_refused("https://r.example/v2/a/blobs/uploads/", "https://r.example:80/v2/u", "leads away");
	expect_refused("https://r.example/v2/a/blobs/uploads/", "https://r.example.:443/v2/u", "leads away");
	expect_refused(REQ, "//evil.example/v2/u", "neither an absolute URL");
	expect_refused(REQ, "uploads/u", "neither an absolute URL");
	expect_refused(REQ, "ftp://127.0.0.1:5000/u", "neither an absolute URL");
	expect_refused(REQ, "", "neither an absolute URL");
	expect_refused(REQ, "/v2/u\r\nX-Injected: 1", "control characters");
	expect_refused(REQ, "/v2/a b", "spaces");
	char longer[400];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	expect_refused(REQ, longer, "too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_location_on_the_registry),
		cmocka_unit_test(test_location_elsewhere_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
