/* The work of Docker's prune commands, shared by `container prune`,
 * `image prune`, `volume prune` and `system prune`: the confirmation
 * prompt, what each removes by Docker 20.10's rules, and the report. */
#ifndef BOXVM_CLI_PRUNE_H
#define BOXVM_CLI_PRUNE_H

#include <stdbool.h>

#include "../common/paths.h"
#include "../store/prune_filter.h"

/* Docker's PromptForConfirmation: prints warning and " [y/N] " on stdout and
 * reads one line of stdin; only "y" or "Y" is yes (end of input is no). */
bool cli_prune_confirm(const char *warning);

struct cli_pruned {
	char **lines;        /* box IDs, volume names, or "untagged: X" / "deleted: Y" lines */
	long long reclaimed; /* bytes */
	int rc;              /* a failure already reported on stderr: its exit code (0: none) */
};

/* Stopped boxes (created or exited; never running, paused, restarting or
 * starting), newest first, with their writable layer's size; anonymous
 * volumes stay, as Docker's. A box another client starts meanwhile stays
 * (the removal takes the box's start lock and refuses a live box). */
void cli_prune_boxes(const struct bx_paths *p, const struct bx_prune_filter *f, struct cli_pruned *out);
/* Volumes no box uses, by name, with their files' size. */
void cli_prune_volumes(const struct bx_paths *p, const struct bx_prune_filter *f, struct cli_pruned *out);
/* Networks no box uses, by name (Docker: "custom networks not used by at
 * least one container"); until= counts from their creation, label= their labels. */
void cli_prune_networks(const struct bx_paths *p, const struct bx_prune_filter *f, struct cli_pruned *out);
/* Images with no tag (all: every image no box uses), then what nothing
 * references (bx_image_prune). */
void cli_prune_images(const struct bx_paths *p, bool all, const struct bx_prune_filter *f, struct cli_pruned *out);

/* The build cache (store/buildcache.h): the dangling entries (all: every
 * entry no box's image is) that f's until= picks, and the images only they
 * kept; lines are the entries' IDs. */
void cli_prune_build_cache(const struct bx_paths *p, bool all, const struct bx_prune_filter *f, struct cli_pruned *out);

/* "TITLE\nline\n...\n\n" when there are lines, as Docker prints a section. */
void cli_pruned_print(const char *title, const struct cli_pruned *r);
/* "Total reclaimed space: 1.536MB" */
void cli_prune_print_total(long long bytes);
void cli_pruned_free(struct cli_pruned *r);

/* A prune command's flags: -f, --filter, and -a / --volumes where it has
 * them (CLI_PRUNE_FLAG_*); the filter is checked against allowed
 * (BX_PRUNE_* of store/prune_filter.h). Returns 1 after printing --help, 0, or
 * -1 with err (a bad flag, an operand, a filter Docker refuses). */
enum { CLI_PRUNE_FLAG_ALL = 1, CLI_PRUNE_FLAG_VOLUMES = 2, CLI_PRUNE_FLAG_CACHE = 4 /* -a's and --filter's help for the build cache */ };
struct cli_prune_args {
	bool force, all, volumes;
	struct bx_prune_filter filter;
};
int cli_prune_args(int argc, char **argv, const char *usage, const char *summary, unsigned flags, unsigned allowed,
		   struct cli_prune_args *a, struct bx_err *err);

#endif
