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
#include <stddef.h>

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
	/* where cli_flags stores the flag (tables of a command's own loop leave them NULL) */
	const char **str;      /* a value flag: its value (the last one given wins) */
	bool *on;              /* a boolean flag: true, or false for --flag=false */
};
/* --help, which cli_flags answers with the usage, and the end of a table */
#define BX_OPT_HELP_ID (-1)
#define BX_OPT_HELP {'h', "help", NULL, BX_OPT_HELP_ID, "Print usage", NULL, NULL}
#define BX_OPT_END {0, NULL, NULL, 0, NULL, NULL, NULL}

struct bx_args {
	int argc;
	char **argv;
	int i;          /* next argv index */
	const char *group; /* rest of a "-it" group being consumed */
	bool ended;     /* "--" seen */
	bool stop_at_operand;
	char *operands[64]; /* gathered while flags follow them (more: the rest is taken as operands) */
	int noperands;
	const struct bx_opt *last; /* the option bx_args_next matched last */
};

void bx_args_init(struct bx_args *a, int argc, char **argv);
/* Returns 1 with *id and *val set for a flag, 0 when no flag is left (the
 * operands are argv[a->i..argc)), -1 on error. */
int bx_args_next(struct bx_args *a, const struct bx_opt *opts, int *id, const char **val, struct bx_err *err);
/* After the flags: fail unless the operands left number from min to max
 * (max < 0: no limit), with Docker's message naming the command (argv[0]):
 * "\"rm\" requires at least 1 argument: USAGE" (exit code CLI_EXIT_USAGE). */
int cli_need_operands(const struct bx_args *a, int min, int max, const char *usage, struct bx_err *err);
/* The whole flag loop of a command whose flags only store values (each
 * option's str or on) besides BX_OPT_HELP: 1 with the operands left at
 * argv[a->i..argc), 0 once --help printed usage, summary and options (the
 * command then returns 0), -1 with err filled (a bad flag). */
int cli_flags(struct bx_args *a, int argc, char **argv, const struct bx_opt *opts, const char *usage,
	      const char *summary, struct bx_err *err);
/* A command group's subcommands (`image ls`, `container prune`). */
struct cli_sub {
	const char *name;
	int (*fn)(int argc, char **argv);
};
/* Run the subcommand argv[1] names with argv from there; none, -h or --help
 * prints help (group's usage line and help's command list) and returns 0,
 * an unknown one prints it to stderr and returns 1, as Docker's. */
int cli_subcommand(int argc, char **argv, const struct cli_sub *subs, size_t n, const char *group, const char *help);
/* Print "Usage: ..." + the options table. */
void bx_args_usage(const char *usage, const char *summary, const struct bx_opt *opts);

/* Append a copy of s to a NULL-terminated malloc'd vector: 0, or -1 with err filled (ENOMEM). */
int cli_strv_append(char ***v, const char *s, struct bx_err *err);

#endif
