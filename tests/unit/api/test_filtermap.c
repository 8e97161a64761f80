/* The ?filters= of /volumes, /networks and /events: Docker's two JSON
 * shapes, the keys an endpoint takes, and the label rule. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/filtermap.h"

static const char *const keys[] = {"name", "label", "dangling", NULL};

static void both_shapes_and_the_keys_taken(void **state)
{
	(void)state;
	struct bx_err err = {0};
	json_t *m;
	assert_int_equal(api_filtermap_parse("{\"name\":[\"a\",\"b\"],\"label\":{\"k=v\":true,\"x\":false}}", keys, &m, &err), 0);
	assert_int_equal(json_array_size(api_filtermap_get(m, "name")), 2);
	assert_int_equal(json_array_size(api_filtermap_get(m, "label")), 1);
	assert_true(api_filtermap_any(m, "name", "b", false));
	assert_false(api_filtermap_any(m, "name", "c", false));
	assert_true(api_filtermap_any(m, "dangling", "whatever", false)); /* not given: anything */
	json_decref(m);
	assert_int_equal(api_filtermap_parse(NULL, keys, &m, &err), 0);
	assert_int_equal(json_object_size(m), 0);
	json_decref(m);
	assert_int_equal(api_filtermap_parse("{\"bogus\":[\"a\"]}", keys, &m, &err), -1);
	assert_string_equal(err.msg, "Invalid filter 'bogus'");
	assert_null(m);
	assert_int_equal(api_filtermap_parse("{\"name\":[1]}", keys, &m, &err), -1);
	assert_int_equal(api_filtermap_parse("{\"name\":\"a\"}", keys, &m, &err), -1);
	assert_int_equal(api_filtermap_parse("[", keys, &m, &err), -1);
}

static void labels_all_required(void **state)
{
	(void)state;
	struct bx_err err = {0};
	json_t *m, *labels = json_pack("{s:s,s:s}", "com.docker.compose.project", "p", "tier", "web");
	assert_int_equal(api_filtermap_parse("{\"label\":[\"com.docker.compose.project=p\",\"tier\"]}", keys, &m, &err), 0);
	assert_true(api_filtermap_labels(m, labels));
	assert_false(api_filtermap_labels(m, NULL));
	json_object_set_new(labels, "tier", json_string("db"));
	assert_true(api_filtermap_labels(m, labels)); /* "tier": the key alone */
	json_decref(m);
	assert_int_equal(api_filtermap_parse("{\"label\":[\"com.docker.compose.project=q\"]}", keys, &m, &err), 0);
	assert_false(api_filtermap_labels(m, labels));
	json_decref(m);
	/* the prunes' filters: the store's rules from Docker's JSON; label!=: what matches every one of its values stays */
	static const char *const prune_keys[] = {"label", "label!", "until", NULL};
	struct bx_prune_filter f;
	assert_int_equal(api_prune_filter("{\"label!\":[\"tier=db\"]}", prune_keys, BX_PRUNE_LABEL | BX_PRUNE_UNTIL, &f, &err), 0);
	assert_false(bx_prune_labels_match(&f, labels));
	json_object_set_new(labels, "tier", json_string("web"));
	assert_true(bx_prune_labels_match(&f, labels));
	assert_true(bx_prune_labels_match(&f, NULL));
	bx_prune_filter_free(&f);
	assert_int_equal(api_prune_filter("{\"until\":[\"1700000000\"]}", prune_keys, BX_PRUNE_UNTIL, &f, &err), 0);
	assert_true(bx_prune_until_match(&f, 1700000000000000000LL));
	assert_false(bx_prune_until_match(&f, 1700000000000000001LL));
	bx_prune_filter_free(&f);
	assert_int_equal(api_prune_filter("{\"until\":[\"soon\"]}", prune_keys, BX_PRUNE_UNTIL, &f, &err), -1);
	assert_int_equal(err.errnum, EINVAL);
	assert_non_null(strstr(err.msg, "failed to parse value as time or duration: \"soon\""));
	assert_int_equal(api_prune_filter("{\"bogus\":[\"1\"]}", prune_keys, BX_PRUNE_UNTIL, &f, &err), -1);
	assert_string_equal(err.msg, "Invalid filter 'bogus'");
	json_decref(labels);
	assert_int_equal(api_filtermap_bool("true"), 1);
	assert_int_equal(api_filtermap_bool("0"), 0);
	assert_int_equal(api_filtermap_bool("yes"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(both_shapes_and_the_keys_taken),
		cmocka_unit_test(labels_all_required),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
