/* The --filter of Docker's prune commands (pure): until=TIME, label=K,
 * label=K=V, label!=K[=V], and dangling=true|false for image prune, with
 * the daemon's rules for which command takes which and how they match. */
#ifndef BOXVM_CLI_PRUNE_FILTER_H
#define BOXVM_CLI_PRUNE_FILTER_H

#include <jansson.h>
#include <stdbool.h>

#include "../common/err.h"

/* which keys a command accepts (Docker 20.10: containers until and label;
 * volumes label only; images also dangling) */
enum {
	CLI_PRUNE_UNTIL = 1,
	CLI_PRUNE_LABEL = 2,
	CLI_PRUNE_DANGLING = 4,
};

struct cli_prune_filter {
	char **given;          /* every filter as given, in order (system prune's warning) */
	bool has_until;
	long long until_ns;    /* only what was created at or before it */
	char **labels;         /* label=: every one must match */
	char **not_labels;     /* label!=: excluded when every one matches */
	int dangling;          /* -1: not given; 0 false; 1 true */
};

void cli_prune_filter_init(struct cli_prune_filter *f);
/* Take one --filter value. A value without '=' is a flag error (exit 125,
 * Docker's client refuses it); the rest are checked by cli_prune_filter_check. */
int cli_prune_filter_add(struct cli_prune_filter *f, const char *kv, struct bx_err *err);
/* What Docker's daemon refuses: a key the command does not take (allowed:
 * CLI_PRUNE_* bits), an until= that is no time, two until=, a dangling=
 * that is no boolean. now_ns: what a duration counts back from. */
int cli_prune_filter_check(struct cli_prune_filter *f, unsigned allowed, long long now_ns, struct bx_err *err);
/* labels: a JSON object KEY -> "VALUE" (NULL or not an object: no labels). */
bool cli_prune_labels_match(const struct cli_prune_filter *f, json_t *labels);
/* created_ns 0 (unknown) passes, as Docker's zero time does */
bool cli_prune_until_match(const struct cli_prune_filter *f, long long created_ns);
void cli_prune_filter_free(struct cli_prune_filter *f);

#endif
