/* Which events a `boxvm events --filter` lets through, by Docker 20.10's
 * rules (daemon/events/filter.go) (pure) (events.h). */
#include "events.h"

#include <stdlib.h>
#include <string.h>

int bx_event_filter_add(struct bx_event_filter *f, const char *kv, struct bx_err *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq)
		return bx_fail(err, 0, "invalid argument \"%s\" for \"-f, --filter\" flag: bad format of filter (expected name=value)",
			       kv);
	char **k = realloc(f->keys, (f->n + 1) * sizeof(*k));
	if (k)
		f->keys = k;
	char **v = realloc(f->values, (f->n + 1) * sizeof(*v));
	if (v)
		f->values = v;
	char *key = strndup(kv, (size_t)(eq - kv)), *value = strdup(eq + 1);
	if (!k || !v || !key || !value) {
		free(key);
		free(value);
		return bx_fail(err, 0, "out of memory");
	}
	/* Docker lower-cases the key, not the value */
	for (char *c = key; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	f->keys[f->n] = key;
	f->values[f->n] = value;
	f->n++;
	return 0;
}

void bx_event_filter_free(struct bx_event_filter *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->keys[i]);
		free(f->values[i]);
	}
	free(f->keys);
	free(f->values);
	memset(f, 0, sizeof(*f));
}

static bool has_key(const struct bx_event_filter *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->keys[i], key))
			return true;
	return false;
}

/* Go's Args.ExactMatch: no value for key matches everything */
static bool exact(const struct bx_event_filter *f, const char *key, const char *src)
{
	if (!has_key(f, key))
		return true;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->keys[i], key) && !strcmp(f->values[i], src))
			return true;
	return false;
}

/* Args.FuzzyMatch: exact, or a value is a prefix of src */
static bool fuzzy(const struct bx_event_filter *f, const char *key, const char *src)
{
	if (exact(f, key, src))
		return true;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->keys[i], key) && !strncmp(src, f->values[i], strlen(f->values[i])))
			return true;
	return false;
}

static const char *attr(const struct bx_event *ev, const char *key)
{
	const char *v = json_string_value(json_object_get(ev->attrs, key));
	return v ? v : "";
}

/* Docker's fuzzyMatchName: the actor's ID or its "name" attribute */
static bool match_name(const struct bx_event_filter *f, const char *key, const struct bx_event *ev)
{
	return fuzzy(f, key, ev->actor_id) || fuzzy(f, key, attr(ev, "name"));
}

/* reference.FamiliarName: the name without tag or digest, and without
 * docker.io/library/ (what cannot be a reference is left as it is) */
static void strip_tag(const char *image, char *out, size_t size)
{
	size_t n = strcspn(image, "@");
	if (n >= size)
		n = size - 1;
	memcpy(out, image, n);
	out[n] = '\0';
	char *slash = strrchr(out, '/'), *colon = strrchr(slash ? slash : out, ':');
	if (colon)
		*colon = '\0';
	static const char *const prefixes[] = {"docker.io/library/", "docker.io/"};
	for (size_t i = 0; i < 2; i++) {
		size_t l = strlen(prefixes[i]);
		if (!strncmp(out, prefixes[i], l)) {
			memmove(out, out + l, strlen(out + l) + 1);
			break;
		}
	}
	if (!strncmp(out, "library/", 8) && !strchr(out + 8, '/'))
		memmove(out, out + 8, strlen(out + 8) + 1);
}

static bool match_image(const struct bx_event_filter *f, const struct bx_event *ev)
{
	if (!has_key(f, "image"))
		return true;
	const char *name = attr(ev, !strcmp(ev->type, "image") ? "name" : "image");
	char id_s[sizeof(ev->actor_id)], name_s[1024];
	strip_tag(ev->actor_id, id_s, sizeof(id_s));
	strip_tag(name, name_s, sizeof(name_s));
	return exact(f, "image", ev->actor_id) || exact(f, "image", name) || exact(f, "image", id_s) ||
	       exact(f, "image", name_s);
}

/* Args.MatchKVList: every label= value must be there (KEY, or KEY=VALUE) */
static bool match_labels(const struct bx_event_filter *f, const struct bx_event *ev)
{
	if (!has_key(f, "label"))
		return true;
	if (!json_object_size(ev->attrs))
		return false;
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->keys[i], "label") != 0)
			continue;
		const char *kv = f->values[i], *eq = strchr(kv, '=');
		char key[512];
		size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
		if (kl >= sizeof(key))
			return false;
		memcpy(key, kv, kl);
		key[kl] = '\0';
		const char *v = json_string_value(json_object_get(ev->attrs, key));
		if (!v || (eq && strcmp(v, eq + 1) != 0))
			return false;
	}
	return true;
}

static bool match_event(const struct bx_event_filter *f, const struct bx_event *ev)
{
	/* Docker (#25798): these actions carry the command or the status after
	 * a colon, so a plain name matches them as a prefix */
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->keys[i], "event") &&
		    (!strcmp(f->values[i], "health_status") || !strcmp(f->values[i], "exec_create") ||
		     !strcmp(f->values[i], "exec_start")))
			return fuzzy(f, "event", ev->action);
	return exact(f, "event", ev->action);
}

bool bx_event_filter_match(const struct bx_event_filter *f, const struct bx_event *ev)
{
	static const char *const named[] = {"daemon", "container", "plugin", "volume", "network",
					    "node",   "service",   "secret", "config"};
	if (!match_event(f, ev) || !exact(f, "type", ev->type) || !exact(f, "scope", "local"))
		return false;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (!match_name(f, named[i], ev))
			return false;
	return match_image(f, ev) && match_labels(f, ev);
}
