/* The Engine API's paths (versions, IDs, actions), its stream frames and
 * the ?filters= of the container list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/filters.h"
#include "api/route.h"

static void versions(void **state)
{
	(void)state;
	struct bx_err err = {0};
	const char *path;
	assert_int_equal(api_route_split("/v1.41/containers/json", &path, &err), 0);
	assert_string_equal(path, "/containers/json");
	assert_int_equal(api_route_split("/v1.24/_ping", &path, &err), 0); /* older clients: served */
	assert_string_equal(path, "/_ping");
	assert_int_equal(api_route_split("/_ping", &path, &err), 0); /* unversioned */
	assert_string_equal(path, "/_ping");
	assert_int_equal(api_route_split("/volumes", &path, &err), 0); /* /v... but no version */
	assert_string_equal(path, "/volumes");
	assert_int_equal(api_route_split("/v1.42/info", &path, &err), -1);
	assert_string_equal(err.msg, "client version 1.42 is too new. Maximum supported API version is 1.41");
	assert_int_equal(api_route_split("/v1.11/info", &path, &err), -1);
	assert_non_null(strstr(err.msg, "is too old. Minimum supported API version is 1.12"));
	assert_int_equal(api_route_split("/v1.x/info", &path, &err), -1);
	assert_int_equal(api_route_split("/v99999999999999999.1/info", &path, &err), -1);
}

static void ids_and_actions(void **state)
{
	(void)state;
	char id[64];
	const char *action;
	assert_true(api_route_match("/containers/web/start", "/containers/", id, sizeof(id), &action));
	assert_string_equal(id, "web");
	assert_string_equal(action, "start");
	assert_true(api_route_match("/containers/abc", "/containers/", id, sizeof(id), &action));
	assert_string_equal(action, "");
	assert_false(api_route_match("/containers/", "/containers/", id, sizeof(id), &action));
	assert_false(api_route_match("/containers/a/b/c", "/containers/", id, sizeof(id), &action));
	assert_false(api_route_match("/images/a", "/containers/", id, sizeof(id), &action));
	char small[4];
	assert_false(api_route_match("/containers/toolong/json", "/containers/", small, sizeof(small), &action));
}

static void frames(void **state)
{
	(void)state;
	unsigned char h[8];
	api_frame_header(h, 1, 4);
	const unsigned char out[8] = {1, 0, 0, 0, 0, 0, 0, 4};
	assert_memory_equal(h, out, 8);
	api_frame_header(h, 2, 0x01020304);
	const unsigned char err[8] = {2, 0, 0, 0, 1, 2, 3, 4};
	assert_memory_equal(h, err, 8);
}

static void filters(void **state)
{
	(void)state;
	struct bx_err err = {0};
	struct bx_box_filters f = {0};
	assert_int_equal(api_filters_parse("{\"status\":[\"exited\",\"running\"],\"label\":[\"k=v\"]}", &f, &err), 0);
	assert_string_equal(f.statuses[0], "exited");
	assert_string_equal(f.statuses[1], "running");
	assert_string_equal(f.labels[0], "k=v");
	bx_box_filters_free(&f);
	memset(&f, 0, sizeof(f));
	/* the old form, {"KEY":{"VALUE":true}} */
	assert_int_equal(api_filters_parse("{\"name\":{\"web\":true}}", &f, &err), 0);
	assert_int_equal(f.nnames, 1);
	bx_box_filters_free(&f);
	memset(&f, 0, sizeof(f));
	assert_int_equal(api_filters_parse("{\"status\":[\"bogus\"]}", &f, &err), -1);
	bx_box_filters_free(&f);
	memset(&f, 0, sizeof(f));
	assert_int_equal(api_filters_parse("{\"status\":\"running\"}", &f, &err), -1);
	assert_int_equal(api_filters_parse("not json", &f, &err), -1);
	assert_int_equal(api_filters_parse("{\"volume\":[\"x\"]}", &f, &err), -1); /* not a box filter */
	bx_box_filters_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(versions),
		cmocka_unit_test(ids_and_actions),
		cmocka_unit_test(frames),
		cmocka_unit_test(filters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
