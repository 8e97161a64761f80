/* update's values: sizes as Docker's RAMInBytes takes them, and the checks
 * Docker makes before it changes a box, with its messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "box/update.h"

static void sizes(void **state)
{
	struct bx_err err;
	long long v;
	assert_int_equal(bx_update_parse_bytes("--memory", "256m", &v, &err), 0);
	assert_int_equal(v, 256LL << 20);
	assert_int_equal(bx_update_parse_bytes("--memory", "1G", &v, &err), 0);
	assert_int_equal(v, 1LL << 30);
	assert_int_equal(bx_update_parse_bytes("--memory", "300mb", &v, &err), 0);
	assert_int_equal(v, 300LL << 20);
	assert_int_equal(bx_update_parse_bytes("--memory", "4096", &v, &err), 0);
	assert_int_equal(v, 4096);
	const char *bad[] = {"", "m", "-1m", "+5m", " 5m", "5x", "5mm", "5bb", "99999999999g", NULL};
	for (const char **b = bad; *b; b++) {
		assert_int_equal(bx_update_parse_bytes("--memory", *b, &v, &err), -1);
		assert_non_null(strstr(err.msg, "for \"--memory\" flag"));
	}
}

static void checks(void **state)
{
	struct bx_err err;
	struct bx_update u = {.memory_set = true, .memory = 3LL << 20};
	assert_int_equal(bx_update_check(&u, 256LL << 20, 0, 2, "0-1", &err), -1);
	assert_string_equal(err.msg, "Minimum memory limit allowed is 6MB");
	u.memory = 128LL << 20;
	assert_int_equal(bx_update_check(&u, 256LL << 20, 0, 2, "0-1", &err), 0);
	/* the reservation in effect (given now or recorded) bounds the memory */
	assert_int_equal(bx_update_check(&u, 256LL << 20, 200LL << 20, 2, "0-1", &err), -1);
	assert_string_equal(err.msg, "Minimum memory limit can not be less than memory reservation limit, see usage");
	u = (struct bx_update){.reservation_set = true, .reservation = 300LL << 20};
	assert_int_equal(bx_update_check(&u, 256LL << 20, 0, 2, "0-1", &err), -1);
	u = (struct bx_update){.cpus_set = true, .nano_cpus = 3000000000LL};
	assert_int_equal(bx_update_check(&u, 256LL << 20, 0, 2, "0-1", &err), -1);
	assert_string_equal(err.msg, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
	u.nano_cpus = 500000000LL;
	assert_int_equal(bx_update_check(&u, 256LL << 20, 0, 2, "0-1", &err), 0);
	u = (struct bx_update){.cpuset_set = true};
	strcpy(u.cpuset, "7");
	assert_int_equal(bx_update_check(&u, 256LL << 20, 0, 2, "0-1", &err), -1);
	assert_string_equal(err.msg, "Requested CPUs are not available - requested 7, available: 0-1");
	strcpy(u.cpuset, "1");
	assert_int_equal(bx_update_check(&u, 256LL << 20, 0, 2, "0-1", &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(sizes), cmocka_unit_test(checks)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
