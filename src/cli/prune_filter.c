/* The prune commands' --filter (prune_filter.h): Docker's filters.Args
 * semantics (MatchKVList, matchLabels) and the daemon's validation. */
#include "prune_filter.h"

#include <stdlib.h>
#include <string.h>

#include "../image/image.h"
#include "args.h"
#include "timearg.h"

void cli_prune_filter_init(struct cli_prune_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->dangling = -1;
}

int cli_prune_filter_add(struct cli_prune_filter *f, const char *kv, struct bx_err *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return bx_fail_code(err, CLI_EXIT_BAD_FLAG, 0,
				    "invalid argument \"%s\" for \"--filter\" flag: bad format of filter (expected name=value)", kv);
	return cli_strv_append(&f->given, kv, err);
}

static bool is_key(const char *kv, const char *key)
{
	size_t n = strlen(key);
	return !strncmp(kv, key, n) && kv[n] == '=';
}

int cli_prune_filter_check(struct cli_prune_filter *f, unsigned allowed, long long now_ns, struct bx_err *err)
{
	/* keys first, then values, as the daemon checks them */
	for (char **g = f->given; g && *g; g++) {
		bool ok = ((allowed & CLI_PRUNE_UNTIL) && is_key(*g, "until")) ||
			  ((allowed & CLI_PRUNE_LABEL) && (is_key(*g, "label") || is_key(*g, "label!"))) ||
			  ((allowed & CLI_PRUNE_DANGLING) && is_key(*g, "dangling"));
		if (!ok)
			return bx_fail(err, 0, "invalid filter '%.*s': %s", (int)(strchr(*g, '=') - *g), *g,
				       allowed & CLI_PRUNE_DANGLING ? "use until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE] or dangling=BOOL"
				       : allowed & CLI_PRUNE_UNTIL ? "use until=TIME, label=KEY[=VALUE] or label!=KEY[=VALUE]"
								   : "use label=KEY[=VALUE] or label!=KEY[=VALUE]");
	}
	for (char **g = f->given; g && *g; g++) {
		const char *v = strchr(*g, '=') + 1;
		if (is_key(*g, "until")) {
			if (f->has_until)
				return bx_fail(err, 0, "more than one until filter specified");
			if (cli_time_arg(v, now_ns, &f->until_ns) < 0)
				return bx_fail(err, 0, "failed to parse value as time or duration: \"%s\": use a timestamp "
						       "(2026-11-28T10:00:00Z), unix seconds or a duration (10m, 1h)", v);
			f->has_until = true;
		} else if (is_key(*g, "label")) {
			if (cli_strv_append(&f->labels, v, err) < 0)
				return -1;
		} else if (is_key(*g, "label!")) {
			if (cli_strv_append(&f->not_labels, v, err) < 0)
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

bool cli_prune_labels_match(const struct cli_prune_filter *f, json_t *labels)
{
	if (f->labels && !all_match(f->labels, labels))
		return false;
	/* label!=: excluded only when every one of them matches (Docker's matchLabels) */
	return !(f->not_labels && all_match(f->not_labels, labels));
}

bool cli_prune_until_match(const struct cli_prune_filter *f, long long created_ns)
{
	return !f->has_until || created_ns <= f->until_ns;
}

void cli_prune_filter_free(struct cli_prune_filter *f)
{
	bx_strv_free(f->given);
	bx_strv_free(f->labels);
	bx_strv_free(f->not_labels);
	cli_prune_filter_init(f);
}
