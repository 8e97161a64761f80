/* Docker-style flag parsing: "--flag=value", "--flag value", "-e value",
 * "-evalue" and grouped booleans ("-it") are accepted; "--" ends flags. As
 * in Docker, flags may follow operands (`rm BOX -f`, `inspect BOX -f T`):
 * the operands are gathered, in order, at the end of argv, from a->i on.
 * Commands whose operands end in a command line of their own (`run IMAGE
 * CMD...`, `exec BOX CMD...`) set stop_at_operand: flags end at the first
 * operand. */
#ifndef BOXVM_CLI_ARGS_H
#define BOXVM_CLI_ARGS_H

#include <stdbool.h>

#include "../common/err.h"
#include "cli.h"

/* The exit_code bx_args_next gives a flag it cannot parse (unknown, missing
 * its value, a bad value): 125 in every command, as Docker's. */
#define CLI_EXIT_BAD_FLAG CLI_EXIT_ALWAYS(BX_EXIT_ERROR)
/* The exit_code of cli_need_operands: too few or too many arguments exit 1
 * in every command, `run` too, as Docker's. */
#define CLI_EXIT_USAGE CLI_EXIT_ALWAYS(1)

struct bx_opt {
	char short_name;       /* 0: none */
	const char *long_name; /* NULL: none */
	const char *argname;   /* NULL: boolean flag */
	int id;
	const char *help;
};

struct bx_args {
	int argc;
	char **argv;
	int i;          /* next argv index */
	const char *group; /* rest of a "-it" group being consumed */
	bool ended;     /* "--" seen */
	bool stop_at_operand;
	char *operands[64]; /* gathered while flags follow them (more: the rest is taken as operands) */
	int noperands;
};

void bx_args_init(struct bx_args *a, int argc, char **argv);
/* Returns 1 with *id and *val set for a flag, 0 when no flag is left (the
 * operands are argv[a->i..argc)), -1 on error. */
int bx_args_next(struct bx_args *a, const struct bx_opt *opts, int *id, const char **val, struct bx_err *err);
/* After the flags: fail unless the operands left number from min to max
 * (max < 0: no limit), with Docker's message naming the command (argv[0]):
 * "\"rm\" requires at least 1 argument: USAGE" (exit code CLI_EXIT_USAGE). */
int cli_need_operands(const struct bx_args *a, int min, int max, const char *usage, struct bx_err *err);
/* Print "Usage: ..." + the options table. */
void bx_args_usage(const char *usage, const char *summary, const struct bx_opt *opts);

/* Append a copy of s to a NULL-terminated malloc'd vector: 0, or -1 with err filled (ENOMEM). */
int cli_strv_append(char ***v, const char *s, struct bx_err *err);

#endif
