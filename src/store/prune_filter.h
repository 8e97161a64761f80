/* The filters of Docker's prunes (pure), one for the CLI's --filter and the
 * Engine API's ?filters=: until=TIME, label=K, label=K=V, label!=K[=V], and
 * dangling=true|false for image prune, with the daemon's rules for which
 * prune takes which and how they match. */
#ifndef BOXVM_STORE_PRUNE_FILTER_H
#define BOXVM_STORE_PRUNE_FILTER_H

#include <jansson.h>
#include <stdbool.h>

#include "../common/err.h"

/* which keys a command accepts (Docker 20.10: containers until and label;
 * volumes label only; images also dangling) */
enum {
	BX_PRUNE_UNTIL = 1,
	BX_PRUNE_LABEL = 2,
	BX_PRUNE_DANGLING = 4,
};

struct bx_prune_filter {
	char **given;          /* every filter as given, in order (system prune's warning) */
	bool has_until;
	long long until_ns;    /* only what was created at or before it */
	char **labels;         /* label=: every one must match */
	char **not_labels;     /* label!=: excluded when every one matches */
	int dangling;          /* -1: not given; 0 false; 1 true */
};

void bx_prune_filter_init(struct bx_prune_filter *f);
/* Take one filter "KEY=VALUE" (-1, errnum EINVAL, without a '=' or a key:
 * the CLI's flag error); what it says is checked by bx_prune_filter_check. */
int bx_prune_filter_add(struct bx_prune_filter *f, const char *kv, struct bx_err *err);
/* The same from a key and a value (the Engine API's ?filters=). */
int bx_prune_filter_add_kv(struct bx_prune_filter *f, const char *key, const char *val, struct bx_err *err);
/* What Docker's daemon refuses: a key the command does not take (allowed:
 * CLI_PRUNE_* bits), an until= that is no time, two until=, a dangling=
 * that is no boolean. now_ns: what a duration counts back from. */
int bx_prune_filter_check(struct bx_prune_filter *f, unsigned allowed, long long now_ns, struct bx_err *err);
/* labels: a JSON object KEY -> "VALUE" (NULL or not an object: no labels). */
bool bx_prune_labels_match(const struct bx_prune_filter *f, json_t *labels);
/* created_ns 0 (unknown) passes, as Docker's zero time does */
bool bx_prune_until_match(const struct bx_prune_filter *f, long long created_ns);
struct bx_image;
/* An image's created time and config labels against f (image prune). */
bool bx_prune_pick_image(const struct bx_prune_filter *f, const struct bx_image *img);
/* A network record's "Created" and "Labels" against f (network prune). */
bool bx_prune_pick_network(const struct bx_prune_filter *f, json_t *rec);
void bx_prune_filter_free(struct bx_prune_filter *f);

#endif
