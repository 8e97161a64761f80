#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../lib/image.h"
#include "args.h"
#include "cli.h"

enum { OPT_QUIET, OPT_NO_TRUNC, OPT_DIGESTS, OPT_FORMAT, OPT_HELP };
static const struct bx_opt images_opts[] = {
	{'q', "quiet", NULL, OPT_QUIET, "Only show image IDs"},
	{0, "no-trunc", NULL, OPT_NO_TRUNC, "Don't truncate output"},
	{0, "digests", NULL, OPT_DIGESTS, "Show digests"},
	{0, "format", "string", OPT_FORMAT, "Output format: \"table\" (default) or \"json\" (one object per line)"},
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

static void print_row(bool digests, const char *repo, const char *tag, const char *digest, const char *id,
		      const char *age, const char *size)
{
	if (digests)
		printf("%-30s %-12s %-72s %-15s %-20s %s\n", repo, tag, digest, id, age, size);
	else
		printf("%-30s %-12s %-15s %-20s %s\n", repo, tag, id, age, size);
}

static bool has_tag_for(char **names, const char *repo)
{
	size_t l = strlen(repo);
	for (char **nm = names; nm && *nm; nm++)
		if (!strncmp(*nm, repo, l) && (*nm)[l] == ':' && !strchr(*nm, '@'))
			return true;
	return false;
}

/* the digest of a "REPO@sha256:..." name, or "<none>" */
static void repo_digest(char **names, const char *repo, char *out, size_t size)
{
	size_t l = strlen(repo);
	snprintf(out, size, "<none>");
	for (char **nm = names; nm && *nm; nm++)
		if (!strncmp(*nm, repo, l) && (*nm)[l] == '@')
			snprintf(out, size, "%s", *nm + l + 1);
}

static void emit(bool json, bool digests, const char *repo, const char *tag, const char *digest, const char *id,
		 const char *age, const char *size, const struct bx_image *img)
{
	if (!json) {
		print_row(digests, repo, tag, digest, id, age, size);
		return;
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "Repository", repo, "Tag", tag, "Digest", digest, "ID", id,
			      "CreatedSince", age, "Size", size, "VirtualSize", (json_int_t)img->size);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

int cmd_images(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	bool quiet = false, no_trunc = false, digests = false, json = false;
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, images_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_QUIET: quiet = true; break;
		case OPT_NO_TRUNC: no_trunc = true; break;
		case OPT_DIGESTS: digests = true; break;
		case OPT_FORMAT:
			if (!strcmp(val, "json"))
				json = true;
			else if (strcmp(val, "table") != 0) {
				bx_fail(&err, 0, "invalid --format '%s': use \"table\" or \"json\"", val);
				return bx_cli_report(&err);
			}
			break;
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
	if (!quiet && !json)
		print_row(digests, "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE");
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
		/* "NAME:TAG" names make rows; "NAME@DIGEST" names (pulled repo digests) fill the
		 * DIGEST column, or make a <none> row when the name has no tag here */
		bool any = false;
		char **names = imgs[i].names;
		for (char **nm = names; nm && *nm; nm++) {
			char repo[512], dg[80];
			bool tagged = !strchr(*nm, '@');
			snprintf(repo, sizeof(repo), "%s", *nm);
			const char *tag = "<none>";
			char *sep = tagged ? strrchr(repo, ':') : strchr(repo, '@');
			if (sep && (!tagged || !strchr(sep, '/'))) {
				*sep = '\0';
				tag = tagged ? sep + 1 : "<none>";
			}
			if (!tagged && has_tag_for(names, repo))
				continue;
			repo_digest(names, repo, dg, sizeof(dg));
			emit(json, digests, repo, tag, dg, shown_id, age, size, &imgs[i]);
			any = true;
		}
		if (!any)
			emit(json, digests, "<none>", "<none>", "<none>", shown_id, age, size, &imgs[i]);
	}
	for (size_t i = 0; i < n; i++)
		bx_image_free(&imgs[i]);
	free(imgs);
	return 0;
}
