/* boxvm system prune [-a] [--volumes] [-f] [--filter ...]: Docker 20.10's,
 * one prune after another (prune.c) with one total: stopped boxes,
 * networks, with --volumes the volumes no box uses, untagged images (-a:
 * every image no box uses), the build cache's dangling entries (-a: all of
 * them) and the images only they kept (store/buildcache.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "prune.h"

/* Docker's confirmation text, filters and all */
static bool confirmed(const struct cli_prune_args *a)
{
	char text[4096];
	size_t n = 0;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "WARNING! This will remove:\n  - all stopped containers\n"
							    "  - all networks not used by at least one container\n");
	if (a->volumes)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "  - all volumes not used by at least one container\n");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
			      a->all ? "  - all images without at least one container associated to them\n  - all build cache\n"
				     : "  - all dangling images\n  - all dangling build cache\n");
	if (a->filter.given) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "\n  Items to be pruned will be filtered with:\n");
		for (char **g = a->filter.given; *g && n < sizeof(text); g++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "  - %s\n", *g);
	}
	if (n < sizeof(text))
		snprintf(text + n, sizeof(text) - n, "\nAre you sure you want to continue?");
	return cli_prune_confirm(text);
}

int cmd_system_prune(int argc, char **argv)
{
	static const char usage[] = "boxvm system prune [OPTIONS]";
	struct bx_err err = {0};
	struct cli_prune_args a;
	struct bx_paths p;
	int r = cli_prune_args(argc, argv, usage, "Remove unused data.", CLI_PRUNE_FLAG_ALL | CLI_PRUNE_FLAG_VOLUMES,
			       BX_PRUNE_UNTIL | BX_PRUNE_LABEL, &a, &err);
	if (r == 0 && a.volumes && a.filter.has_until)
		r = bx_fail(&err, 0, "the \"until\" filter is not supported with \"--volumes\": prune volumes with 'boxvm volume prune'");
	if (r != 0) {
		bx_prune_filter_free(&a.filter);
		return r > 0 ? 0 : bx_cli_report(&err);
	}
	if (!a.force && !confirmed(&a)) { /* Docker: a "no" prints nothing more */
		bx_prune_filter_free(&a.filter);
		return 0;
	}
	if (bx_paths_init(&p, &err) < 0) {
		bx_prune_filter_free(&a.filter);
		return bx_cli_report(&err);
	}
	struct cli_pruned boxes = {0}, networks = {0}, volumes = {0}, images = {0}, cache = {0};
	cli_prune_boxes(&p, &a.filter, &boxes);
	cli_pruned_print("Deleted Containers:", &boxes);
	cli_prune_networks(&p, &a.filter, &networks);
	cli_pruned_print("Deleted Networks:", &networks);
	if (a.volumes) {
		cli_prune_volumes(&p, &a.filter, &volumes);
		cli_pruned_print("Deleted Volumes:", &volumes);
	}
	cli_prune_images(&p, a.all, &a.filter, &images);
	cli_pruned_print("Deleted Images:", &images);
	cli_prune_build_cache(&p, a.all, &a.filter, &cache);
	cli_pruned_print("Deleted build cache objects:", &cache);
	cli_prune_print_total(boxes.reclaimed + volumes.reclaimed + images.reclaimed + cache.reclaimed);
	int rc = boxes.rc ? boxes.rc : networks.rc ? networks.rc : volumes.rc ? volumes.rc : images.rc ? images.rc : cache.rc;
	cli_pruned_free(&cache);
	cli_pruned_free(&boxes);
	cli_pruned_free(&networks);
	cli_pruned_free(&volumes);
	cli_pruned_free(&images);
	bx_prune_filter_free(&a.filter);
	return rc;
}
