/* boxvm builder prune [-a] [-f] [--filter until=DURATION] (Docker 20.10's
 * words and report) and builder build (= build): the build cache
 * (store/buildcache.h) by itself. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "prune.h"

static void usage(void)
{
	printf("\nUsage:  boxvm builder COMMAND\n\nManage builds\n\nCommands:\n"
	       "  build       Build an image from a Dockerfile\n"
	       "  prune       Remove build cache\n");
}

static int builder_prune(int argc, char **argv)
{
	static const char use[] = "boxvm builder prune";
	struct bx_err err = {0};
	struct cli_prune_args a;
	struct bx_paths p;
	int r = cli_prune_args(argc, argv, use, "Remove build cache", CLI_PRUNE_FLAG_ALL | CLI_PRUNE_FLAG_CACHE,
			       BX_PRUNE_UNTIL, &a, &err);
	if (r != 0) {
		bx_prune_filter_free(&a.filter);
		return r > 0 ? 0 : bx_cli_report(&err);
	}
	/* Docker: a "no" still ends with the (empty) total */
	bool go = a.force || cli_prune_confirm(a.all ? "WARNING! This will remove all build cache. Are you sure you want to "
						       "continue?"
						     : "WARNING! This will remove all dangling build cache. Are you sure you "
						       "want to continue?");
	struct cli_pruned cache = {0};
	if (go && bx_paths_init(&p, &err) < 0) {
		bx_prune_filter_free(&a.filter);
		return bx_cli_report(&err);
	}
	if (go)
		cli_prune_build_cache(&p, a.all, &a.filter, &cache);
	cli_pruned_print("Deleted build cache objects:", &cache);
	cli_prune_print_total(cache.reclaimed);
	int rc = cache.rc;
	cli_pruned_free(&cache);
	bx_prune_filter_free(&a.filter);
	return rc;
}

int cmd_builder(int argc, char **argv)
{
	struct bx_err err = {0};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage();
		return 0; /* Docker: a command group alone prints its usage and exits 0 */
	}
	if (!strcmp(argv[1], "prune"))
		return builder_prune(argc - 1, argv + 1);
	if (!strcmp(argv[1], "build"))
		return cmd_build(argc - 1, argv + 1);
	bx_fail(&err, 0, "unknown builder command '%s' (build, prune)", argv[1]);
	return bx_cli_report(&err);
}
