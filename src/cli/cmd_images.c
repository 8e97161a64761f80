#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/image.h"
#include "args.h"
#include "cli.h"

enum { OPT_QUIET, OPT_NO_TRUNC, OPT_HELP };
static const struct bx_opt images_opts[] = {
	{'q', "quiet", NULL, OPT_QUIET, "Only show image IDs"},
	{0, "no-trunc", NULL, OPT_NO_TRUNC, "Don't truncate output"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

static void human_size(long long b, char *out, size_t size)
{
	const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)b;
	int u = 0;
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(out, size, u ? "%.3g%s" : "%.0f%s", v, units[u]);
}

static void human_age(long long created, char *out, size_t size)
{
	if (created <= 0) {
		snprintf(out, size, "N/A");
		return;
	}
	long long d = (long long)time(NULL) - created;
	if (d < 60)
		snprintf(out, size, "Less than a minute ago");
	else if (d < 3600)
		snprintf(out, size, "%lld minutes ago", d / 60);
	else if (d < 86400 * 2)
		snprintf(out, size, "%lld hours ago", d / 3600);
	else if (d < 86400 * 14)
		snprintf(out, size, "%lld days ago", d / 86400);
	else if (d < 86400 * 60)
		snprintf(out, size, "%lld weeks ago", d / (86400 * 7));
	else if (d < 86400 * 730)
		snprintf(out, size, "%lld months ago", d / (86400 * 30));
	else
		snprintf(out, size, "%lld years ago", d / (86400 * 365));
}

int cmd_images(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	bool quiet = false, no_trunc = false;
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, images_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_QUIET: quiet = true; break;
		case OPT_NO_TRUNC: no_trunc = true; break;
		case OPT_HELP:
			bx_args_usage("boxvm images [OPTIONS]", "List images.", images_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	struct bx_image *imgs = NULL;
	size_t n = 0;
	if (bx_image_list(&p, &imgs, &n, &err) < 0)
		return bx_cli_report(&err);
	if (!quiet)
		printf("%-30s %-12s %-15s %-20s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
	for (size_t i = 0; i < n; i++) {
		const char *hex = strncmp(imgs[i].id, "sha256:", 7) ? imgs[i].id : imgs[i].id + 7;
		char shown_id[80];
		snprintf(shown_id, sizeof(shown_id), "%s", no_trunc ? imgs[i].id : hex);
		if (!no_trunc)
			shown_id[12] = '\0';
		if (quiet) {
			printf("%s\n", shown_id);
			continue;
		}
		char size[32], age[64];
		human_size(imgs[i].size, size, sizeof(size));
		human_age(imgs[i].created, age, sizeof(age));
		char **names = imgs[i].names;
		if (!names || !names[0]) {
			printf("%-30s %-12s %-15s %-20s %s\n", "<none>", "<none>", shown_id, age, size);
			continue;
		}
		for (char **nm = names; *nm; nm++) {
			char repo[256];
			snprintf(repo, sizeof(repo), "%s", *nm);
			char *colon = strrchr(repo, ':');
			const char *tag = "<none>";
			if (colon && !strchr(colon, '/')) {
				*colon = '\0';
				tag = colon + 1;
			}
			printf("%-30s %-12s %-15s %-20s %s\n", repo, tag, shown_id, age, size);
		}
	}
	for (size_t i = 0; i < n; i++)
		bx_image_free(&imgs[i]);
	free(imgs);
	return 0;
}
