/* The prunes' filters of the CLI and the Engine API (prune_filter.h): Docker's filters.Args
 * semantics (MatchKVList, matchLabels) and the daemon's validation. */
#include "prune_filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../image/image.h"
#include "timearg.h"

void bx_prune_filter_init(struct bx_prune_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->dangling = -1;
}

int bx_prune_filter_add(struct bx_prune_filter *f, const char *kv, struct bx_err *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return bx_fail(err, EINVAL, "bad format of filter \"%s\" (expected name=value)", kv);
	return bx_strv_append(&f->given, kv, err);
}

int bx_prune_filter_add_kv(struct bx_prune_filter *f, const char *key, const char *val, struct bx_err *err)
{
	char *kv;
	if (asprintf(&kv, "%s=%s", key, val) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	int rc = bx_prune_filter_add(f, kv, err);
	free(kv);
	return rc;
}

static bool is_key(const char *kv, const char *key)
{
	size_t n = strlen(key);
	return !strncmp(kv, key, n) && kv[n] == '=';
}

int bx_prune_filter_check(struct bx_prune_filter *f, unsigned allowed, long long now_ns, struct bx_err *err)
{
	/* keys first, then values, as the daemon checks them */
	for (char **g = f->given; g && *g; g++) {
		bool ok = ((allowed & BX_PRUNE_UNTIL) && is_key(*g, "until")) ||
			  ((allowed & BX_PRUNE_LABEL) && (is_key(*g, "label") || is_key(*g, "label!"))) ||
			  ((allowed & BX_PRUNE_DANGLING) && is_key(*g, "dangling"));
		if (!ok)
			return bx_fail(err, 0, "invalid filter '%.*s': %s", (int)(strchr(*g, '=') - *g), *g,
				       allowed & BX_PRUNE_DANGLING ? "use until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE] or dangling=BOOL"
				       : allowed & BX_PRUNE_UNTIL && allowed & BX_PRUNE_LABEL
					       ? "use until=TIME, label=KEY[=VALUE] or label!=KEY[=VALUE]"
				       : allowed & BX_PRUNE_UNTIL ? "use until=DURATION (the build cache takes no other)"
								   : "use label=KEY[=VALUE] or label!=KEY[=VALUE]");
	}
	for (char **g = f->given; g && *g; g++) {
		const char *v = strchr(*g, '=') + 1;
		if (is_key(*g, "until")) {
			if (f->has_until)
				return bx_fail(err, 0, "more than one until filter specified");
			if (bx_time_arg(v, now_ns, &f->until_ns) < 0)
				return bx_fail(err, 0, "failed to parse value as time or duration: \"%s\": use a timestamp "
						       "(2026-11-28T10:00:00Z), unix seconds or a duration (10m, 1h)", v);
			f->has_until = true;
		} else if (is_key(*g, "label")) {
			if (bx_strv_append(&f->labels, v, err) < 0)
				return -1;
		} else if (is_key(*g, "label!")) {
			if (bx_strv_append(&f->not_labels, v, err) < 0)
				return -1;
		} else if (is_key(*g, "dangling")) {
			int b = !strcmp(v, "true") || !strcmp(v, "1") ? 1 : !strcmp(v, "false") || !strcmp(v, "0") ? 0 : -1;
			if (b < 0)
				return bx_fail(err, 0, "invalid filter 'dangling=%s': use dangling=true or dangling=false", v);
			/* Docker: a false among them wins (every image, as -a) */
			f->dangling = f->dangling == 0 ? 0 : b;
		}
	}
	return 0;
}

/* Docker's MatchKVList: every "K" / "K=V" of want is in labels. */
static bool all_match(char **want, json_t *labels)
{
	if (!json_is_object(labels) || !json_object_size(labels))
		return false;
	for (char **w = want; *w; w++) {
		const char *eq = strchr(*w, '=');
		size_t kl = eq ? (size_t)(eq - *w) : strlen(*w);
		json_t *v = json_object_getn(labels, *w, kl);
		if (!v)
			return false;
		if (eq && (!json_is_string(v) || strcmp(json_string_value(v), eq + 1)))
			return false;
	}
	return true;
}

bool bx_prune_labels_match(const struct bx_prune_filter *f, json_t *labels)
{
	if (f->labels && !all_match(f->labels, labels))
		return false;
	/* label!=: excluded only when every one of them matches (Docker's matchLabels) */
	return !(f->not_labels && all_match(f->not_labels, labels));
}

bool bx_prune_until_match(const struct bx_prune_filter *f, long long created_ns)
{
	return !f->has_until || created_ns <= f->until_ns;
}

bool bx_prune_pick_image(const struct bx_prune_filter *f, const struct bx_image *img)
{
	if (!bx_prune_until_match(f, img->created * 1000000000LL))
		return false;
	json_t *labels = json_object();
	for (char **l = img->config.labels; l && *l; l++) {
		const char *eq = strchr(*l, '=');
		if (eq)
			json_object_setn_new(labels, *l, (size_t)(eq - *l), json_string(eq + 1));
	}
	bool ok = bx_prune_labels_match(f, labels);
	json_decref(labels);
	return ok;
}

bool bx_prune_pick_network(const struct bx_prune_filter *f, json_t *rec)
{
	long long created = 0;
	const char *when = json_string_value(json_object_get(rec, "Created"));
	if (!when || bx_time_arg(when, 0, &created) < 0)
		created = 0;
	return bx_prune_until_match(f, created) && bx_prune_labels_match(f, json_object_get(rec, "Labels"));
}

void bx_prune_filter_free(struct bx_prune_filter *f)
{
	bx_strv_free(f->given);
	bx_strv_free(f->labels);
	bx_strv_free(f->not_labels);
	bx_prune_filter_init(f);
}
