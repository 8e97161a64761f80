/* The CLI's Docker-style flag parser and operand-count check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cli/args.h"

enum { O_RM, O_ENV, O_INTERACTIVE, O_TTY };
static const struct bx_opt opts[] = {
	{0, "rm", NULL, O_RM, ""},
	{'e', "env", "list", O_ENV, ""},
	{'i', "interactive", NULL, O_INTERACTIVE, ""},
	{'t', "tty", NULL, O_TTY, ""},
	{0, NULL, NULL, 0, NULL},
};

static void flags_stop_at_first_operand(void **state)
{
	char *argv[] = {"run", "--rm", "-it", "-eA=1", "--env=B=2", "-e", "C=3", "busybox", "-e", "x", NULL};
	struct bx_args a;
	struct bx_err err = {0};
	bx_args_init(&a, 10, argv);
	a.stop_at_operand = true;
	a.i = 1;
	int id, seen = 0;
	const char *val, *envs[3];
	int nenv = 0;
	while (bx_args_next(&a, opts, &id, &val, &err) > 0) {
		seen |= 1 << id;
		if (id == O_ENV)
			envs[nenv++] = val;
	}
	assert_int_equal(seen, 0xf);
	assert_int_equal(nenv, 3);
	assert_string_equal(envs[0], "A=1");
	assert_string_equal(envs[1], "B=2");
	assert_string_equal(envs[2], "C=3");
	assert_string_equal(argv[a.i], "busybox"); /* "-e x" after the image belongs to the command */
}

/* Docker: `rm a -f b`, `inspect BOX -f T`: flags after operands count, and
 * the operands keep their order at the end of argv; "--" ends flags */
static void flags_may_follow_operands(void **state)
{
	char *argv[] = {"rm", "a", "--rm", "b", "-e", "V", "c", "--", "-i", "d", NULL};
	struct bx_args a;
	struct bx_err err = {0};
	bx_args_init(&a, 10, argv);
	a.i = 1;
	int id, seen = 0;
	const char *val, *env = NULL;
	while (bx_args_next(&a, opts, &id, &val, &err) > 0) {
		seen |= 1 << id;
		if (id == O_ENV)
			env = val;
	}
	assert_int_equal(seen, (1 << O_RM) | (1 << O_ENV));
	assert_string_equal(env, "V");
	assert_int_equal(10 - a.i, 5);
	const char *want[] = {"a", "b", "c", "-i", "d"};
	for (int k = 0; k < 5; k++)
		assert_string_equal(argv[a.i + k], want[k]);
	/* asking again changes nothing */
	assert_int_equal(bx_args_next(&a, opts, &id, &val, &err), 0);
	assert_string_equal(argv[a.i], "a");
	char *argv2[] = {"inspect", "box1", "box2", "-i", NULL};
	bx_args_init(&a, 4, argv2);
	a.i = 1;
	assert_int_equal(bx_args_next(&a, opts, &id, &val, &err), 1);
	assert_int_equal(id, O_INTERACTIVE);
	assert_int_equal(bx_args_next(&a, opts, &id, &val, &err), 0);
	assert_int_equal(a.i, 2);
	assert_string_equal(argv2[2], "box1");
	assert_string_equal(argv2[3], "box2");
}

static void unknown_flag_and_missing_value(void **state)
{
	char *argv1[] = {"run", "--bogus", NULL};
	char *argv2[] = {"run", "-e", NULL};
	struct bx_args a;
	struct bx_err err = {0};
	int id;
	const char *val;
	bx_args_init(&a, 2, argv1);
	a.i = 1;
	assert_int_equal(bx_args_next(&a, opts, &id, &val, &err), -1);
	assert_non_null(strstr(err.msg, "--bogus"));
	assert_int_equal(err.exit_code, CLI_EXIT_BAD_FLAG); /* Docker: 125 in every command */
	bx_args_init(&a, 2, argv2);
	a.i = 1;
	assert_int_equal(bx_args_next(&a, opts, &id, &val, &err), -1);
	assert_non_null(strstr(err.msg, "-e"));
	assert_int_equal(err.exit_code, CLI_EXIT_BAD_FLAG);
}

static void operand_counts(void **state)
{
	char *argv[] = {"rename", "a", "b", "c", NULL};
	struct bx_args a;
	struct bx_err err = {0};
	bx_args_init(&a, 3, argv);
	a.i = 1;
	assert_int_equal(cli_need_operands(&a, 2, 2, "U", &err), 0);
	bx_args_init(&a, 2, argv);
	a.i = 1;
	assert_int_equal(cli_need_operands(&a, 2, 2, "U", &err), -1);
	assert_string_equal(err.msg, "\"rename\" requires exactly 2 arguments: U");
	assert_int_equal(err.exit_code, CLI_EXIT_USAGE); /* Docker: 1, `run` too */
	bx_args_init(&a, 4, argv);
	a.i = 1;
	assert_int_equal(cli_need_operands(&a, 2, 2, "U", &err), -1);
	bx_args_init(&a, 1, argv);
	a.i = 1;
	assert_int_equal(cli_need_operands(&a, 1, -1, "U", &err), -1);
	assert_string_equal(err.msg, "\"rename\" requires at least 1 argument: U");
	bx_args_init(&a, 4, argv);
	a.i = 1;
	assert_int_equal(cli_need_operands(&a, 1, -1, "U", &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flags_stop_at_first_operand),
		cmocka_unit_test(flags_may_follow_operands),
		cmocka_unit_test(unknown_flag_and_missing_value),
		cmocka_unit_test(operand_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
