/* boxvm system df [-v] [--format json|TEMPLATE]: what images, boxes, volumes
 * and the build cache take on disk, in Docker's rows and by Docker's rules
 * for ACTIVE and RECLAIMABLE. Images are counted in the sizes `images`
 * shows (their blobs, a shared layer once), a box by its writable layer, a
 * volume by its files, the build cache by the blobs of the images only its
 * entries keep (store/buildcache.h: a shared entry's bytes are the images'). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../box/box_view.h"
#include "../common/clock.h"
#include "../common/treesize.h"
#include "../image/rootfs.h"
#include "../store/buildcache.h"
#include "../store/image_usage.h"
#include "../store/state.h"
#include "../store/volumes.h"
#include "args.h"
#include "cli.h"
#include "stats_view.h"
#include "table.h"
#include "template.h"

struct df_box {
	struct bx_box_record *r;
	long long bytes;
	bool active;
};

struct df_volume {
	char name[BX_VOLUME_LIST_NAME];
	int links;
	long long bytes;
};

struct df {
	struct bx_image_usage images;
	struct bx_box_record *records;
	struct df_box *boxes;
	size_t nboxes;
	struct df_volume *volumes;
	int nvolumes;
	struct bx_buildcache cache;
};

/* Docker's Reclaimable column: "0B", or "1.2MB (40%)" once there is a size */
static void reclaimable(long long bytes, long long total, char *out, size_t size)
{
	char human[32];
	cli_size_human((double)(bytes > 0 ? bytes : 0), human, sizeof(human));
	if (total > 0)
		snprintf(out, size, "%s (%lld%%)", human, (bytes > 0 ? bytes : 0) * 100 / total);
	else
		snprintf(out, size, "%s", human);
}

static json_t *summary_row(const char *type, long long total, long long active, long long size, long long free_bytes)
{
	char t[24], a[24], s[32], r[64]; /* r: a 31-byte size, " (", 19 digits, "%)" */
	snprintf(t, sizeof(t), "%lld", total);
	snprintf(a, sizeof(a), "%lld", active);
	cli_size_human((double)size, s, sizeof(s));
	reclaimable(free_bytes, size, r, sizeof(r));
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "Type", type, "TotalCount", t, "Active", a, "Size", s, "Reclaimable",
			 r);
}

/* volumes whose users file says "ID,ID": how many */
static int count_users(const char *users)
{
	if (!*users)
		return 0;
	int n = 1;
	for (const char *c = users; *c; c++)
		n += *c == ',';
	return n;
}

static int gather(const struct bx_paths *p, struct df *d, struct bx_err *err)
{
	if (bx_image_usage(p, &d->images, err) < 0 || bx_state_list(p, &d->records, &d->nboxes, err) < 0 ||
	    bx_buildcache_list(p, &d->cache, err) < 0)
		return -1;
	d->boxes = calloc(d->nboxes + 1, sizeof(*d->boxes));
	static char names[1024][BX_VOLUME_LIST_NAME];
	int n = bx_volume_list(p, names, 1024, err);
	d->volumes = calloc(n > 0 ? (size_t)n : 1, sizeof(*d->volumes));
	if (n < 0 || !d->boxes || !d->volumes)
		return n < 0 ? -1 : bx_fail(err, 0, "out of memory");
	for (size_t i = 0; i < d->nboxes; i++) {
		struct df_box *b = &d->boxes[d->nboxes - 1 - i]; /* newest first, as Docker lists them */
		b->r = &d->records[i];
		b->bytes = bx_rootfs_rw_bytes(b->r->box_dir);
		/* what container prune would leave: Docker's running, paused and restarting, and starting */
		b->active = bx_box_status_live(b->r->status);
	}
	for (int i = 0; i < n; i++) {
		struct df_volume *v = &d->volumes[d->nvolumes];
		char users[512], dir[PATH_MAX];
		if (bx_volume_users(p, names[i], users, sizeof(users), NULL) < 0 ||
		    bx_volume_dir(p, names[i], dir, sizeof(dir), NULL) < 0)
			continue; /* gone meanwhile */
		snprintf(v->name, sizeof(v->name), "%.*s", (int)sizeof(v->name) - 1, names[i]); /* names fit: bounded for -O2 */
		v->links = count_users(users);
		v->bytes = bx_tree_bytes(dir);
		d->nvolumes++;
	}
	return 0;
}

static void df_free(struct df *d)
{
	bx_image_usage_free(&d->images);
	free(d->records);
	free(d->boxes);
	free(d->volumes);
	bx_buildcache_free(&d->cache);
}

/* The four rows of `system df`, as objects with Docker's template fields. */
static json_t *summary(const struct df *d)
{
	json_t *rows = json_array();
	long long active = 0, used = 0, size = d->images.layers + d->images.unlisted;
	for (size_t i = 0; i < d->images.n; i++)
		if (d->images.v[i].boxes) {
			active++;
			used += d->images.v[i].img.size - d->images.v[i].shared; /* Docker: an image's unique size is in use */
		}
	json_array_append_new(rows, summary_row("Images", (long long)d->images.n, active, size, size - used));
	long long total = 0, free_bytes = 0;
	active = 0;
	for (size_t i = 0; i < d->nboxes; i++) {
		total += d->boxes[i].bytes;
		active += d->boxes[i].active;
		free_bytes += d->boxes[i].active ? 0 : d->boxes[i].bytes;
	}
	json_array_append_new(rows, summary_row("Containers", (long long)d->nboxes, active, total, free_bytes));
	total = free_bytes = active = 0;
	for (int i = 0; i < d->nvolumes; i++) {
		total += d->volumes[i].bytes;
		active += d->volumes[i].links > 0;
		free_bytes += d->volumes[i].links > 0 ? 0 : d->volumes[i].bytes;
	}
	json_array_append_new(rows, summary_row("Local Volumes", d->nvolumes, active, total, free_bytes));
	/* Docker's: a shared entry counts, its bytes do not (they are its images'); an active one is not reclaimable */
	total = free_bytes = active = 0;
	for (size_t i = 0; i < d->cache.n; i++) {
		const struct bx_buildcache_entry *e = &d->cache.v[i];
		active += e->in_use;
		total += e->shared ? 0 : e->size;
		free_bytes += e->shared || e->in_use ? 0 : e->size;
	}
	json_array_append_new(rows, summary_row("Build Cache", (long long)d->cache.n, active, total, free_bytes));
	return rows;
}

static int print_summary(const struct df *d, const char *format, struct bx_err *err)
{
	json_t *rows = summary(d), *row;
	const char *table_tmpl = NULL;
	bool json_lines = format && !strcmp(format, "json");
	bool table = !format || cli_table_format(format, &table_tmpl);
	struct cli_table t;
	size_t i;
	int rc = 0;
	cli_table_init(&t, 5);
	if (table && table_tmpl) {
		json_t *titles = json_pack("{s:s,s:s,s:s,s:s,s:s}", "Type", "TYPE", "TotalCount", "TOTAL", "Active", "ACTIVE",
					   "Size", "SIZE", "Reclaimable", "RECLAIMABLE");
		cli_table_start(&t, table_tmpl, titles);
		json_decref(titles);
	} else if (table) {
		const char *header[] = {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"};
		cli_table_add(&t, header);
	}
	json_array_foreach(rows, i, row) {
		char *text = NULL;
		if (table && table_tmpl) {
			cli_table_add_rendered(&t, table_tmpl, row);
		} else if (table) {
			static const char *const keys[] = {"Type", "TotalCount", "Active", "Size", "Reclaimable"};
			const char *cells[5];
			for (size_t c = 0; c < 5; c++)
				cells[c] = json_string_value(json_object_get(row, keys[c]));
			cli_table_add(&t, cells);
		} else if (json_lines) {
			text = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
		} else if (bx_template_render(format, row, &text, err) < 0) {
			rc = -1;
			break;
		}
		if (text)
			printf("%s\n", text);
		free(text);
	}
	if (cli_table_flush(&t, stdout, err) < 0)
		rc = -1;
	json_decref(rows);
	return rc;
}

static void human(long long bytes, char *out, size_t size)
{
	cli_size_human((double)bytes, out, size);
}

static int newest_first(const void *a, const void *b)
{
	const struct bx_image_use *x = *(struct bx_image_use *const *)a, *y = *(struct bx_image_use *const *)b;
	return (y->img.created > x->img.created) - (y->img.created < x->img.created);
}

static int verbose_images(const struct df *d, long long now_ns, struct bx_err *err)
{
	struct cli_table t;
	const char *header[] = {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"};
	cli_table_init(&t, 8);
	cli_table_add(&t, header);
	const struct bx_image_use **v = calloc(d->images.n + 1, sizeof(*v));
	for (size_t i = 0; v && i < d->images.n; i++)
		v[i] = &d->images.v[i];
	if (v)
		qsort(v, d->images.n, sizeof(*v), newest_first);
	for (size_t i = 0; v && i < d->images.n; i++) {
		const struct bx_image *img = &v[i]->img;
		char repo[512] = "<none>", tag[256] = "<none>", id[16], created[80] = "N/A", size[32], shared[32],
		     unique[32], boxes[16];
		for (char **s = img->names; s && *s; s++) /* the first tag, as Docker shows only that one */
			if (!strchr(*s, '@')) {
				snprintf(repo, sizeof(repo), "%s", *s);
				char *colon = strrchr(repo, ':');
				if (colon && !strchr(colon, '/')) {
					snprintf(tag, sizeof(tag), "%s", colon + 1);
					*colon = '\0';
				}
				break;
			}
		snprintf(id, sizeof(id), "%.12s", img->id + 7);
		if (img->created > 0) {
			bx_human_duration(now_ns - img->created * 1000000000LL, created, sizeof(created) - 4);
			strcat(created, " ago");
		}
		human(img->size, size, sizeof(size));
		human(v[i]->shared, shared, sizeof(shared));
		human(img->size - v[i]->shared, unique, sizeof(unique));
		snprintf(boxes, sizeof(boxes), "%d", v[i]->boxes);
		const char *cells[] = {repo, tag, id, created, size, shared, unique, boxes};
		cli_table_add(&t, cells);
	}
	free(v);
	printf("Images space usage:\n\n");
	return cli_table_flush(&t, stdout, err);
}

/* volume mounts of a box (Docker's LOCAL VOLUMES): its config.json's Mounts of Type volume */
static int box_volumes(const struct bx_box_record *r)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/config.json", r->box_dir) < 0)
		return 0;
	json_t *cfg = json_load_file(path, 0, NULL), *m;
	size_t i;
	int n = 0;
	json_array_foreach(json_object_get(cfg, "Mounts"), i, m) {
		const char *type = json_string_value(json_object_get(m, "Type"));
		n += type && !strcmp(type, "volume");
	}
	json_decref(cfg);
	return n;
}

static int verbose_boxes(const struct df *d, long long now_ns, struct bx_err *err)
{
	struct cli_table t;
	const char *header[] = {"CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"};
	cli_table_init(&t, 8);
	cli_table_add(&t, header);
	for (size_t i = 0; i < d->nboxes; i++) {
		json_t *row = bx_box_ps_json(d->boxes[i].r, NULL, false, now_ns);
		char vols[16], size[32];
		snprintf(vols, sizeof(vols), "%d", box_volumes(d->boxes[i].r));
		cli_size_decimal((double)d->boxes[i].bytes, size, sizeof(size)); /* Docker: 3 digits here */
		const char *cells[] = {json_string_value(json_object_get(row, "ID")),
				       json_string_value(json_object_get(row, "Image")),
				       json_string_value(json_object_get(row, "Command")),
				       vols,
				       size,
				       json_string_value(json_object_get(row, "RunningFor")),
				       json_string_value(json_object_get(row, "Status")),
				       json_string_value(json_object_get(row, "Names"))};
		if (row)
			cli_table_add(&t, cells);
		json_decref(row);
	}
	printf("\nContainers space usage:\n\n");
	return cli_table_flush(&t, stdout, err);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct df_volume *)a)->name, ((const struct df_volume *)b)->name);
}

static int verbose_volumes(struct df *d, struct bx_err *err)
{
	struct cli_table t;
	const char *header[] = {"VOLUME NAME", "LINKS", "SIZE"};
	cli_table_init(&t, 3);
	cli_table_add(&t, header);
	qsort(d->volumes, (size_t)d->nvolumes, sizeof(*d->volumes), by_name);
	for (int i = 0; i < d->nvolumes; i++) {
		char links[16], size[32];
		snprintf(links, sizeof(links), "%d", d->volumes[i].links);
		human(d->volumes[i].bytes, size, sizeof(size));
		const char *cells[] = {d->volumes[i].name, links, size};
		cli_table_add(&t, cells);
	}
	printf("\nLocal Volumes space usage:\n\n");
	return cli_table_flush(&t, stdout, err);
}

/* "X ago" of a time, as the other sections' CREATED */
static void ago(long long now_ns, long long then_ns, char *out, size_t size)
{
	if (then_ns <= 0 || size < 8) {
		snprintf(out, size, "N/A");
		return;
	}
	bx_human_duration(now_ns - then_ns, out, size - 4);
	strcat(out, " ago");
}

/* Docker's section: one row per entry, newest first */
static int verbose_build_cache(const struct df *d, long long now_ns, struct bx_err *err)
{
	long long total = 0;
	for (size_t i = 0; i < d->cache.n; i++)
		total += d->cache.v[i].shared ? 0 : d->cache.v[i].size;
	char size[32];
	human(total, size, sizeof(size));
	printf("\nBuild cache usage: %s\n\n", size);
	struct cli_table t;
	const char *header[] = {"CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"};
	cli_table_init(&t, 7);
	cli_table_add(&t, header);
	for (size_t i = 0; i < d->cache.n; i++) {
		const struct bx_buildcache_entry *e = &d->cache.v[i];
		char id[16], created[80], used[80], usage[24];
		snprintf(id, sizeof(id), "%.12s", e->key);
		human(e->size, size, sizeof(size));
		ago(now_ns, e->rec.created_ns, created, sizeof(created));
		ago(now_ns, e->rec.last_used_ns, used, sizeof(used));
		snprintf(usage, sizeof(usage), "%lu", e->rec.uses);
		const char *cells[] = {id, "regular", size, created, used, usage, e->shared ? "true" : "false"};
		cli_table_add(&t, cells);
	}
	return cli_table_flush(&t, stdout, err);
}

int cmd_system_df(int argc, char **argv)
{
	static const char usage[] = "boxvm system df [OPTIONS]";
	struct bx_err err = {0};
	struct bx_args a;
	struct bx_paths p;
	const char *format = NULL;
	bool verbose = false;
	const struct bx_opt opts[] = {
		{0, "format", "string", 0, "Format the output: \"json\" or a template such as '{{.Type}}\\t{{.Size}}'", .str = &format},
		{'v', "verbose", NULL, 0, "Show detailed information on space usage", .on = &verbose},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, usage, "Show boxvm disk usage.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	const char *table_tmpl = NULL;
	if (cli_need_operands(&a, 0, 0, usage, &err) < 0)
		return bx_cli_report(&err);
	if (format && verbose) {
		bx_fail(&err, 0, "--format is not supported with -v: use one or the other");
		return bx_cli_report(&err);
	}
	if (format && strcmp(format, "json") && !cli_table_format(format, &table_tmpl) && bx_template_check(format, &err) < 0)
		return bx_cli_report(&err);
	if (table_tmpl && bx_template_check(table_tmpl, &err) < 0)
		return bx_cli_report(&err);
	struct df d = {0};
	if (bx_paths_init(&p, &err) < 0 || gather(&p, &d, &err) < 0) {
		int rc = bx_cli_report(&err);
		df_free(&d);
		return rc;
	}
	int rc = 0;
	if (verbose) {
		long long now = bx_real_ns();
		if (verbose_images(&d, now, &err) < 0 || verbose_boxes(&d, now, &err) < 0 || verbose_volumes(&d, &err) < 0 ||
		    verbose_build_cache(&d, now, &err) < 0)
			rc = bx_cli_report(&err);
	} else if (print_summary(&d, format, &err) < 0) {
		rc = bx_cli_report(&err);
	}
	df_free(&d);
	return rc;
}
