/* boxvm images [-a] [-q] [--no-trunc] [--digests] [--format ...] [REPOSITORY[:TAG]]: the image listing, Docker's columns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../image/image.h"
#include "args.h"
#include "cli.h"
#include "stats_view.h"
#include "table.h"
#include "template.h"

enum { OPT_QUIET, OPT_NO_TRUNC, OPT_DIGESTS, OPT_FORMAT, OPT_HELP, OPT_ALL };
static const struct bx_opt images_opts[] = {
	{'a', "all", NULL, OPT_ALL, "Show all images (default hides intermediate images)"},
	{'q', "quiet", NULL, OPT_QUIET, "Only show image IDs"},
	{0, "no-trunc", NULL, OPT_NO_TRUNC, "Don't truncate output"},
	{0, "digests", NULL, OPT_DIGESTS, "Show digests"},
	{0, "format", "string", OPT_FORMAT,
	 "Output format: \"table\" (default), \"json\" (one object per line) or a template such as '{{.ID}}'"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

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

/* Docker's intermediate image (a build's step): untagged, and the parent
 * (the config's "parent") of another image; hidden without -a */
static bool is_intermediate(const struct bx_paths *p, const struct bx_image *imgs, size_t n, size_t i)
{
	for (char **nm = imgs[i].names; nm && *nm; nm++)
		if (!strchr(*nm, '@'))
			return false;
	for (size_t k = 0; k < n; k++) {
		char *buf = NULL;
		size_t len;
		if (k == i || bx_blob_read(p, imgs[k].id, BX_CONFIG_MAX, &buf, &len, NULL) < 0)
			continue;
		json_t *doc = json_loadb(buf, len, 0, NULL);
		const char *parent = json_string_value(json_object_get(doc, "parent"));
		bool child = parent && !strcmp(parent, imgs[i].id);
		json_decref(doc);
		free(buf);
		if (child)
			return true;
	}
	return false;
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

struct listing {
	bool quiet, no_trunc, digests, json;
	const char *template; /* --format TEMPLATE */
	const char *table_tmpl; /* --format "table TEMPLATE" */
	const char *ref;      /* [REPOSITORY[:TAG]]: only the rows it names */
	struct cli_table table;
};

/* Docker: "busybox" names every tag of the repository, "busybox:1" one */
static bool ref_matches(const char *ref, const char *repo, const char *tag)
{
	if (!ref)
		return true;
	const char *colon = strrchr(ref, ':');
	if (colon && strchr(colon, '/'))
		colon = NULL; /* a registry's port, not a tag */
	size_t repo_len = colon ? (size_t)(colon - ref) : strlen(ref);
	return strlen(repo) == repo_len && !strncmp(repo, ref, repo_len) && (!colon || !strcmp(colon + 1, tag));
}

static void emit(struct listing *l, const char *repo, const char *tag, const char *digest, const char *id,
		 const char *age, const char *size, const struct bx_image *img)
{
	if (!l->json && !l->template && !l->table_tmpl) {
		const char *cells[] = {repo, tag, digest, id, age, size};
		if (!l->digests)
			cells[2] = id, cells[3] = age, cells[4] = size;
		cli_table_add(&l->table, cells);
		return;
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "Repository", repo, "Tag", tag, "Digest", digest, "ID", id,
			      "CreatedSince", age, "Size", size, "VirtualSize", (json_int_t)img->size);
	char *s = NULL;
	if (o && l->table_tmpl)
		cli_table_add_rendered(&l->table, l->table_tmpl, o);
	else if (o && l->json)
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	else if (o && bx_template_render(l->template, o, &s, NULL) < 0)
		s = NULL;
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* The rows of one image ("NAME:TAG" names make rows; "NAME@DIGEST" names,
 * pulled repo digests, fill the DIGEST column, or make a <none> row when the
 * name has no tag here); returns how many matched l->ref. */
static int image_rows(struct listing *l, const struct bx_image *img, const char *shown_id, bool print)
{
	char size[32], age[64];
	cli_size_decimal((double)img->size, size, sizeof(size));
	human_age(img->created, age, sizeof(age));
	int matched = 0;
	bool any = false;
	char **names = img->names;
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
		any = true;
		if (!ref_matches(l->ref, repo, tag))
			continue;
		matched++;
		repo_digest(names, repo, dg, sizeof(dg));
		if (print)
			emit(l, repo, tag, dg, shown_id, age, size, img);
	}
	if (!any && !l->ref) {
		matched++;
		if (print)
			emit(l, "<none>", "<none>", "<none>", shown_id, age, size, img);
	}
	return matched;
}

int cmd_images(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	struct listing l = {0};
	bool all = false;
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, images_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_QUIET: l.quiet = true; break;
		case OPT_ALL: all = true; break;
		case OPT_NO_TRUNC: l.no_trunc = true; break;
		case OPT_DIGESTS: l.digests = true; break;
		case OPT_FORMAT:
			l.json = !strcmp(val, "json");
			l.template = l.json || cli_table_format(val, &l.table_tmpl) ? NULL : val;
			break;
		case OPT_HELP:
			bx_args_usage("boxvm images [OPTIONS] [REPOSITORY[:TAG]]", "List images.", images_opts);
			return 0;
		}
	}
	if (r < 0 || (l.template && bx_template_check(l.template, &err) < 0) ||
	    (l.table_tmpl && bx_template_check(l.table_tmpl, &err) < 0) ||
	    cli_need_operands(&a, 0, 1, "boxvm images [OPTIONS] [REPOSITORY[:TAG]]", &err) < 0)
		return bx_cli_report(&err);
	l.ref = a.i < argc ? argv[a.i] : NULL;
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	struct bx_image *imgs = NULL;
	size_t n = 0;
	if (bx_image_list(&p, &imgs, &n, &err) < 0)
		return bx_cli_report(&err);
	cli_table_init(&l.table, l.digests ? 6 : 5);
	if (l.table_tmpl && !l.quiet) {
		json_t *titles = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Repository", "REPOSITORY", "Tag", "TAG",
					   "Digest", "DIGEST", "ID", "IMAGE ID", "CreatedSince", "CREATED", "CreatedAt",
					   "CREATED AT", "Size", "SIZE", "VirtualSize", "VIRTUAL SIZE");
		cli_table_start(&l.table, l.table_tmpl, titles);
		json_decref(titles);
	} else if (!l.quiet && !l.json && !l.template) {
		const char *header[] = {"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"};
		if (!l.digests)
			header[2] = "IMAGE ID", header[3] = "CREATED", header[4] = "SIZE";
		cli_table_add(&l.table, header);
	}
	for (size_t i = 0; i < n; i++) {
		if (!all && !l.ref && is_intermediate(&p, imgs, n, i))
			continue;
		const char *hex = strncmp(imgs[i].id, "sha256:", 7) ? imgs[i].id : imgs[i].id + 7;
		char shown_id[80];
		snprintf(shown_id, sizeof(shown_id), "%s", l.no_trunc ? imgs[i].id : hex);
		if (!l.no_trunc)
			shown_id[12] = '\0';
		if (l.quiet) {
			/* Docker: one ID per row, so an image with two tags shows twice */
			for (int k = image_rows(&l, &imgs[i], shown_id, false); k > 0; k--)
				printf("%s\n", shown_id);
			continue;
		}
		image_rows(&l, &imgs[i], shown_id, true);
	}
	int rc = cli_table_flush(&l.table, stdout, &err) < 0 ? bx_cli_report(&err) : 0;
	for (size_t i = 0; i < n; i++)
		bx_image_free(&imgs[i]);
	free(imgs);
	return rc;
}
