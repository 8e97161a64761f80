/* The build cache's pure parts (buildcache.h): an entry file's text (old
 * one-line entries, bounds, garbage) and which images stay whatever the
 * cache does (names, boxes, images no step made, their ancestors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "store/buildcache.h"

#define ID "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_entry_text_round_trip(void **state)
{
	struct bx_buildcache_rec r = {.image = ID, .uses = 3, .created_ns = 1700000000000000000LL,
				      .last_used_ns = 1700000000500000000LL}, back;
	char text[256];
	struct bx_err err = {0};
	assert_int_equal(bx_buildcache_format(&r, text, sizeof(text)), 0);
	assert_string_equal(text, ID "\n3 1700000000000000000 1700000000500000000\n");
	assert_int_equal(bx_buildcache_parse(text, strlen(text), &back, &err), 0);
	assert_string_equal(back.image, ID);
	assert_int_equal(back.uses, 3);
	assert_true(back.created_ns == r.created_ns && back.last_used_ns == r.last_used_ns);
	assert_int_equal(bx_buildcache_format(&r, text, 40), -1); /* too small: refused, not cut */
}

static void test_older_and_bad_entries(void **state)
{
	struct bx_buildcache_rec r;
	struct bx_err err = {0};
	/* an entry of an older boxvm: the image alone, with or without its newline */
	assert_int_equal(bx_buildcache_parse(ID, strlen(ID), &r, &err), 0);
	assert_string_equal(r.image, ID);
	assert_true(r.uses == 1 && r.created_ns == 0 && r.last_used_ns == 0);
	assert_int_equal(bx_buildcache_parse(ID "\n", strlen(ID) + 1, &r, &err), 0);
	/* figures we cannot read are only figures: the image still counts */
	assert_int_equal(bx_buildcache_parse(ID "\nx y z\n", strlen(ID) + 7, &r, &err), 0);
	assert_true(r.uses == 1 && r.created_ns == 0);
	assert_int_equal(bx_buildcache_parse(ID "\n0 5 5\n", strlen(ID) + 7, &r, &err), 0);
	assert_true(r.uses == 1 && r.created_ns == 0); /* no use at all is no entry's figure */
	/* no image: not an entry */
	assert_int_equal(bx_buildcache_parse("sha256:xyz\n1 2 3\n", 17, &r, &err), -1);
	assert_int_equal(bx_buildcache_parse("", 0, &r, &err), -1);
	char longer[] = ID "0\n";
	assert_int_equal(bx_buildcache_parse(longer, strlen(longer), &r, &err), -1);
	char upper[] = ID;
	upper[7] = 'G';
	assert_int_equal(bx_buildcache_parse(upper, strlen(upper), &r, &err), -1);
}

static void test_what_the_cache_keeps(void **state)
{
	/* 0 <- 1 <- 2 (tagged): a tagged build's steps, kept by the tag;
	 * 3 <- 4: an untagged build's steps, kept by nothing but the cache;
	 * 5 <- 6: a step's image with a box made from it, and the image on it;
	 * 7: a commit (no step made it); 8 <- 9: the image under a commit made on a step */
	const struct bx_bc_image v[] = {
		{.cached = true, .parent = -1}, {.cached = true, .parent = 0}, {.named = true, .cached = true, .parent = 1},
		{.cached = true, .parent = -1}, {.cached = true, .parent = 3},
		{.cached = true, .parent = -1, .boxes = 1}, {.cached = true, .parent = 5},
		{.cached = false, .parent = -1},
		{.cached = true, .parent = -1}, {.cached = false, .parent = 8},
	};
	bool kept[10];
	bx_buildcache_kept(v, 10, kept);
	const bool want[10] = {true, true, true, false, false, true, false, true, true, true};
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(kept[i], want[i]);
}

static void test_parent_loops_end(void **state)
{
	/* a hostile store's parent links in a loop, or out of range */
	const struct bx_bc_image v[] = {{.named = true, .cached = true, .parent = 1}, {.cached = true, .parent = 2},
					{.cached = true, .parent = 0}, {.cached = true, .parent = 99}};
	bool kept[4];
	bx_buildcache_kept(v, 4, kept);
	assert_true(kept[0] && kept[1] && kept[2]);
	assert_false(kept[3]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_text_round_trip),
		cmocka_unit_test(test_older_and_bad_entries),
		cmocka_unit_test(test_what_the_cache_keeps),
		cmocka_unit_test(test_parent_loops_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
