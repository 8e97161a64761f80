/* Docker's prune rules over boxvm's store (prune.h). */
#include "prune.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../box/prune.h"
#include "../common/cleanup.h"
#include "../common/clock.h"
#include "../common/treesize.h"
#include "../image/rootfs.h"
#include "../store/buildcache.h"
#include "../store/image_usage.h"
#include "../store/networks.h"
#include "../store/state.h"
#include "../store/volumes.h"
#include "args.h"
#include "cli.h"
#include "stats_view.h"

bool cli_prune_confirm(const char *warning)
{
	printf("%s [y/N] ", warning);
	fflush(stdout);
	char line[256];
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return !strcmp(line, "y") || !strcmp(line, "Y");
}

static void report(struct cli_pruned *out, struct bx_err *err)
{
	out->rc = bx_cli_report(err);
}

static bool box_picked(void *ctx, const struct bx_box_record *r, json_t *labels)
{
	const struct bx_prune_filter *f = ((void **)ctx)[0];
	return bx_prune_until_match(f, r->created_ns) && bx_prune_labels_match(f, labels);
}

static void box_removed(void *ctx, const char *id, long long bytes)
{
	struct cli_pruned *out = ((void **)ctx)[1];
	struct bx_err err;
	if (cli_strv_append(&out->lines, id, &err) < 0)
		report(out, &err);
	out->reclaimed += bytes;
}

static void prune_failed(void *ctx, struct bx_err *err);

void cli_prune_boxes(const struct bx_paths *p, const struct bx_prune_filter *f, struct cli_pruned *out)
{
	void *ctx[2] = {(void *)f, out};
	const struct bx_box_prune_cb cb = {box_picked, box_removed, prune_failed, ctx};
	bx_box_prune(p, &cb);
}

static bool volume_picked(void *ctx, const char *name, json_t *labels)
{
	const struct bx_prune_filter *f = ((void **)ctx)[0];
	return bx_prune_labels_match(f, labels);
}

static void volume_removed(void *ctx, const char *name, long long bytes)
{
	struct cli_pruned *out = ((void **)ctx)[1];
	struct bx_err err;
	if (cli_strv_append(&out->lines, name, &err) < 0)
		report(out, &err);
	out->reclaimed += bytes;
}

static void prune_failed(void *ctx, struct bx_err *err)
{
	report(((void **)ctx)[1], err);
}

void cli_prune_volumes(const struct bx_paths *p, const struct bx_prune_filter *f, struct cli_pruned *out)
{
	void *ctx[2] = {(void *)f, out};
	const struct bx_volume_prune_cb cb = {volume_picked, volume_removed, prune_failed, ctx};
	bx_volume_prune(p, &cb);
}

static bool network_picked(void *ctx, json_t *r)
{
	return bx_prune_pick_network(((void **)ctx)[0], r);
}

static void network_removed(void *ctx, const char *name)
{
	struct cli_pruned *out = ((void **)ctx)[1];
	struct bx_err err;
	if (cli_strv_append(&out->lines, name, &err) < 0)
		report(out, &err);
}

void cli_prune_networks(const struct bx_paths *p, const struct bx_prune_filter *f, struct cli_pruned *out)
{
	void *ctx[2] = {(void *)f, out};
	const struct bx_network_prune_cb cb = {network_picked, network_removed, prune_failed, ctx};
	bx_network_prune(p, &cb);
}

static bool image_picked(void *ctx, const struct bx_image *img)
{
	return bx_prune_pick_image(ctx, img);
}

static void image_line(void *ctx, const char *verb, const char *what)
{
	struct cli_pruned *out = ctx;
	_cleanup_free_ char *line = NULL;
	struct bx_err err;
	if (asprintf(&line, "%s: %s", !strcmp(verb, "Untagged") ? "untagged" : "deleted", what) < 0) {
		line = NULL;
		bx_fail(&err, ENOMEM, "out of memory");
		report(out, &err);
	} else if (cli_strv_append(&out->lines, line, &err) < 0) {
		report(out, &err);
	}
}

void cli_prune_images(const struct bx_paths *p, bool all, const struct bx_prune_filter *f, struct cli_pruned *out)
{
	struct bx_err err = {0};
	long long bytes = 0;
	if (bx_image_prune(p, all, image_picked, (void *)f, image_line, out, &bytes, &err) < 0)
		report(out, &err);
	out->reclaimed += bytes;
}

static void cache_removed(void *ctx, const char *key)
{
	struct cli_pruned *out = ctx;
	struct bx_err err;
	if (cli_strv_append(&out->lines, key, &err) < 0)
		report(out, &err);
}

void cli_prune_build_cache(const struct bx_paths *p, bool all, const struct bx_prune_filter *f, struct cli_pruned *out)
{
	struct bx_err err = {0};
	long long bytes = 0;
	if (bx_buildcache_prune(p, all, f, cache_removed, out, &bytes, &err) < 0)
		report(out, &err);
	out->reclaimed += bytes;
}

void cli_pruned_print(const char *title, const struct cli_pruned *r)
{
	if (!r->lines)
		return;
	printf("%s\n", title);
	for (char **l = r->lines; *l; l++)
		printf("%s\n", *l);
	printf("\n");
}

void cli_prune_print_total(long long bytes)
{
	char human[32];
	cli_size_human((double)bytes, human, sizeof(human));
	printf("Total reclaimed space: %s\n", human);
}

void cli_pruned_free(struct cli_pruned *r)
{
	bx_strv_free(r->lines);
	memset(r, 0, sizeof(*r));
}

enum { OPT_FORCE, OPT_FILTER, OPT_ALL, OPT_VOLUMES, OPT_HELP };
static const struct bx_opt prune_opts[] = {
	{'a', "all", NULL, OPT_ALL, "Remove every image no box uses, not only untagged ones"},
	{0, "filter", "filter", OPT_FILTER, "Provide filter values (e.g. 'until=24h', 'label=KEY=VALUE', 'label!=KEY')"},
	{'f', "force", NULL, OPT_FORCE, "Do not prompt for confirmation"},
	{0, "volumes", NULL, OPT_VOLUMES, "Prune volumes no box uses too"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

int cli_prune_args(int argc, char **argv, const char *usage, const char *summary, unsigned flags, unsigned allowed,
		   struct cli_prune_args *a, struct bx_err *err)
{
	/* the command's own table: the flags it has, in prune_opts' order */
	struct bx_opt opts[sizeof(prune_opts) / sizeof(prune_opts[0])];
	size_t n = 0;
	for (const struct bx_opt *o = prune_opts; o->long_name; o++)
		if ((o->id != OPT_ALL || (flags & CLI_PRUNE_FLAG_ALL)) && (o->id != OPT_VOLUMES || (flags & CLI_PRUNE_FLAG_VOLUMES))) {
			opts[n] = *o;
			if (o->id == OPT_ALL && (flags & CLI_PRUNE_FLAG_CACHE))
				opts[n].help = "Remove all unused build cache, not just dangling ones";
			if (o->id == OPT_FILTER && (flags & CLI_PRUNE_FLAG_CACHE))
				opts[n].help = "Provide filter values (e.g. 'until=24h')";
			n++;
		}
	opts[n] = (struct bx_opt){0, NULL, NULL, 0, NULL};
	memset(a, 0, sizeof(*a));
	bx_prune_filter_init(&a->filter);
	struct bx_args args;
	int id, r;
	const char *val;
	bx_args_init(&args, argc, argv);
	args.i = 1;
	while ((r = bx_args_next(&args, opts, &id, &val, err)) > 0) {
		switch (id) {
		case OPT_FORCE: a->force = true; break;
		case OPT_ALL: a->all = true; break;
		case OPT_VOLUMES: a->volumes = true; break;
		case OPT_FILTER:
			/* Docker's client refuses a value without '=' itself: a flag error */
			if (bx_prune_filter_add(&a->filter, val, err) < 0)
				return err->errnum == EINVAL ? bx_fail_code(err, CLI_EXIT_BAD_FLAG, 0, "invalid argument \"%s\" for "
						 "\"--filter\" flag: bad format of filter (expected name=value)", val) : -1;
			break;
		case OPT_HELP:
			bx_args_usage(usage, summary, opts);
			return 1;
		}
	}
	if (r < 0 || cli_need_operands(&args, 0, 0, usage, err) < 0)
		return -1;
	return bx_prune_filter_check(&a->filter, allowed, bx_real_ns(), err);
}
