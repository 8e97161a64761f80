/* Docker-style flag parsing (args.h). */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../image/image.h"

void bx_args_init(struct bx_args *a, int argc, char **argv)
{
	a->argc = argc;
	a->argv = argv;
	a->i = 0;
	a->group = NULL;
	a->ended = false;
	a->stop_at_operand = false;
	a->noperands = 0;
}

/* No flag left: the gathered operands go back in front of the ones not yet
 * looked at (those after "--", or all from a->i on), in their order, into
 * argv slots already consumed. */
static int operands_done(struct bx_args *a)
{
	a->i -= a->noperands;
	for (int k = 0; k < a->noperands; k++)
		a->argv[a->i + k] = a->operands[k];
	a->noperands = 0;
	return 0;
}

static const struct bx_opt *find_short(const struct bx_opt *opts, char c)
{
	for (; opts->short_name || opts->long_name; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

static const struct bx_opt *find_long(const struct bx_opt *opts, const char *name, size_t len)
{
	for (; opts->short_name || opts->long_name; opts++)
		if (opts->long_name && strlen(opts->long_name) == len && !strncmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

static int take_value(struct bx_args *a, const struct bx_opt *o, const char **val, const char *shown,
		      struct bx_err *err)
{
	if (a->i >= a->argc)
		return bx_fail_code(err, CLI_EXIT_BAD_FLAG, 0, "flag needs an argument: %s (see --help)", shown);
	*val = a->argv[a->i++];
	return 0;
}

int bx_args_next(struct bx_args *a, const struct bx_opt *opts, int *id, const char **val, struct bx_err *err)
{
	*val = NULL;
	if (a->group && *a->group) {
		char c = *a->group++;
		const struct bx_opt *o = find_short(opts, c);
		if (!o)
			return bx_fail_code(err, CLI_EXIT_BAD_FLAG, 0, "unknown shorthand flag: '%c' (see --help)", c);
		*id = o->id;
		a->last = o;
		if (o->argname) {
			if (*a->group) {
				*val = a->group;
				a->group = NULL;
				return 1;
			}
			a->group = NULL;
			char shown[4] = {'-', c, 0, 0};
			return take_value(a, o, val, shown, err) < 0 ? -1 : 1;
		}
		return 1;
	}
	a->group = NULL;
	const char *arg;
	for (;;) {
		if (a->ended || a->i >= a->argc)
			return operands_done(a);
		arg = a->argv[a->i];
		if (!strcmp(arg, "--")) {
			a->i++;
			a->ended = true;
			return operands_done(a);
		}
		if (arg[0] == '-' && arg[1] != '\0')
			break;
		/* an operand: flags may follow it, unless the command's own command line starts here */
		if (a->stop_at_operand || a->noperands == (int)(sizeof(a->operands) / sizeof(a->operands[0])))
			return operands_done(a);
		a->operands[a->noperands++] = a->argv[a->i++];
	}
	a->i++;
	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct bx_opt *o = find_long(opts, name, len);
		if (!o)
			return bx_fail_code(err, CLI_EXIT_BAD_FLAG, 0, "unknown flag: --%.*s (see --help)", (int)len, name);
		*id = o->id;
		a->last = o;
		if (o->argname) {
			if (eq) {
				*val = eq + 1;
				return 1;
			}
			return take_value(a, o, val, arg, err) < 0 ? -1 : 1;
		}
		if (eq) {
			if (!strcmp(eq + 1, "true"))
				return 1;
			if (!strcmp(eq + 1, "false")) {
				*val = "false";
				return 1;
			}
			return bx_fail_code(err, CLI_EXIT_BAD_FLAG, 0, "invalid boolean value '%s' for --%s", eq + 1, o->long_name);
		}
		return 1;
	}
	a->group = arg + 1;
	return bx_args_next(a, opts, id, val, err);
}

int cli_need_operands(const struct bx_args *a, int min, int max, const char *usage, struct bx_err *err)
{
	int n = a->argc - a->i;
	if (n >= min && (max < 0 || n <= max))
		return 0;
	if (max == 0) /* Docker's words */
		return bx_fail_code(err, CLI_EXIT_USAGE, 0, "\"%s\" accepts no arguments: %s", a->argv[0], usage);
	const char *how = max == min ? "exactly" : n < min ? "at least" : "at most";
	int want = n < min ? min : max;
	return bx_fail_code(err, CLI_EXIT_USAGE, 0, "\"%s\" requires %s %d argument%s: %s", a->argv[0], how, want, want == 1 ? "" : "s",
		       usage);
}

int cli_flags(struct bx_args *a, int argc, char **argv, const struct bx_opt *opts, const char *usage,
	      const char *summary, struct bx_err *err)
{
	int id, r;
	const char *val;
	bx_args_init(a, argc, argv);
	a->i = 1;
	while ((r = bx_args_next(a, opts, &id, &val, err)) > 0) {
		if (id == BX_OPT_HELP_ID) {
			bx_args_usage(usage, summary, opts);
			return 0;
		}
		if (a->last->str)
			*a->last->str = val;
		else if (a->last->on)
			*a->last->on = !val;
	}
	return r < 0 ? -1 : 1;
}

int cli_subcommand(int argc, char **argv, const struct cli_sub *subs, size_t n, const char *group, const char *help)
{
	if (argc >= 2)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(argv[1], subs[i].name))
				return subs[i].fn(argc - 1, argv + 1);
	bool asked = argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
	if (!asked)
		fprintf(stderr, "boxvm: unknown %s command\n", group);
	fprintf(asked ? stdout : stderr, "Usage: boxvm %s COMMAND\n\n%s", group, help);
	return asked ? 0 : 1;
}

void bx_args_usage(const char *usage, const char *summary, const struct bx_opt *opts)
{
	printf("Usage:  %s\n\n%s\n", usage, summary);
	if (!opts || (!opts->short_name && !opts->long_name))
		return;
	printf("\nOptions:\n");
	for (; opts->short_name || opts->long_name; opts++) {
		char left[64];
		int n = 0;
		if (opts->short_name)
			n += snprintf(left + n, sizeof(left) - (size_t)n, "-%c, ", opts->short_name);
		else
			n += snprintf(left + n, sizeof(left) - (size_t)n, "    ");
		snprintf(left + n, sizeof(left) - (size_t)n, "--%s%s%s", opts->long_name,
			 opts->argname ? " " : "", opts->argname ? opts->argname : "");
		printf("  %-28s %s\n", left, opts->help);
	}
}

int cli_strv_append(char ***v, const char *s, struct bx_err *err)
{
	return bx_strv_append(v, s, err);
}
