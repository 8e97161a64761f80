/* passt's port spec for "every UDP port of the namespace" under fd limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "vm/passt_fwd.h"

static void all_when_the_limit_allows(void **state)
{
	(void)state;
	char spec[16];
	assert_int_equal(bx_passt_all_nofile(1), 32767 + BX_PASST_FD_RESERVE);
	assert_int_equal(bx_passt_all_nofile(2), 2 * 32767 + BX_PASST_FD_RESERVE);
	assert_int_equal(bx_passt_all_spec(1048576, 2, spec, sizeof(spec)), 32767);
	assert_string_equal(spec, "all");
	assert_int_equal(bx_passt_all_spec(bx_passt_all_nofile(1), 1, spec, sizeof(spec)), 32767);
	assert_string_equal(spec, "all");
}

static void low_ports_first_under_a_low_limit(void **state)
{
	(void)state;
	char spec[16];
	/* 20000 fds, IPv4 only: 2048 kept for connections, a socket a port */
	assert_int_equal(bx_passt_all_spec(20000, 1, spec, sizeof(spec)), 17952);
	assert_string_equal(spec, "1-17952");
	assert_int_equal(bx_passt_all_spec(20000, 2, spec, sizeof(spec)), 8976);
	assert_string_equal(spec, "1-8976");
	/* one short of "all": the range stops at what fits */
	assert_int_equal(bx_passt_all_spec(bx_passt_all_nofile(1) - 1, 1, spec, sizeof(spec)), 32766);
	assert_string_equal(spec, "1-32766");
	/* a tiny limit keeps half for connections */
	assert_int_equal(bx_passt_all_spec(1024, 1, spec, sizeof(spec)), 512);
	assert_string_equal(spec, "1-512");
	assert_int_equal(bx_passt_all_spec(1, 2, spec, sizeof(spec)), 0);
	assert_string_equal(spec, "none");
	assert_int_equal(bx_passt_all_spec(0, 2, spec, sizeof(spec)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_when_the_limit_allows),
		cmocka_unit_test(low_ports_first_under_a_low_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
