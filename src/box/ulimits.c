/* Docker's --ulimit (ulimits.h), with go-units' types and words. */
#include "ulimits.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* go-units' types: every Linux limit but "as" */
static int type_of(const char *name, size_t len)
{
	char buf[16];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = 0;
	for (char *c = buf; *c; c++)
		if (*c < 'a' || *c > 'z')
			return -1;
	return strcmp(buf, "as") ? bx_rlimit_by_name(buf) : -1;
}

static int value_of(const char *s, size_t len, long long *v)
{
	char buf[32];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	char *end;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return *end || errno || *v < -1 ? -1 : 0;
}

static int parse(const char *text, int *res, long long *soft, long long *hard, struct bx_err *err)
{
	const char *eq = strchr(text, '=');
	if (!eq)
		return bx_fail(err, 0, "invalid argument \"%s\" for \"--ulimit\" flag: invalid ulimit argument: %s", text,
			       text);
	*res = type_of(text, (size_t)(eq - text));
	if (*res < 0)
		return bx_fail(err, 0, "invalid argument \"%s\" for \"--ulimit\" flag: invalid ulimit type: %.*s", text,
			       (int)(eq - text), text);
	const char *v = eq + 1, *colon = strchr(v, ':');
	size_t slen = colon ? (size_t)(colon - v) : strlen(v);
	if (value_of(v, slen, soft) < 0 || (colon && value_of(colon + 1, strlen(colon + 1), hard) < 0))
		return bx_fail(err, 0, "invalid argument \"%s\" for \"--ulimit\" flag: invalid ulimit value: %s "
				       "(want SOFT[:HARD], whole numbers, -1 for unlimited)", text, v);
	if (!colon)
		*hard = *soft;
	/* -1 is unlimited: above every number */
	if (*hard != -1 && (*soft == -1 || *soft > *hard))
		return bx_fail(err, 0, "invalid argument \"%s\" for \"--ulimit\" flag: ulimit soft limit must be less "
				       "than or equal to hard limit: %lld > %lld", text, *soft, *hard);
	return 0;
}

int bx_ulimits_apply(char **ulimits, struct bx_spec *spec, struct bx_err *err)
{
	for (char **u = ulimits; u && *u; u++) {
		int res;
		long long soft, hard;
		if (parse(*u, &res, &soft, &hard, err) < 0)
			return -1;
		if (spec && bx_spec_add_rlimit(spec, (uint32_t)res, soft < 0 ? UINT64_MAX : (uint64_t)soft,
					       hard < 0 ? UINT64_MAX : (uint64_t)hard, err) < 0)
			return -1;
	}
	return 0;
}

json_t *bx_ulimits_json(char **ulimits)
{
	if (!ulimits || !*ulimits)
		return json_null();
	json_t *by_name = json_object(); /* the last of a type wins, as Docker's map */
	for (char **u = ulimits; u && *u; u++) {
		int res;
		long long soft, hard;
		if (parse(*u, &res, &soft, &hard, NULL) < 0)
			continue;
		char name[16];
		snprintf(name, sizeof(name), "%.*s", (int)(strchr(*u, '=') - *u), *u);
		json_object_set_new(by_name, name, json_pack("{s:s,s:I,s:I}", "Name", name, "Hard", (json_int_t)hard,
							       "Soft", (json_int_t)soft));
	}
	json_t *out = json_array();
	const char **keys = calloc(json_object_size(by_name) + 1, sizeof(*keys));
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(by_name, k, v)
		if (keys)
			keys[n++] = k;
	for (size_t i = 0; i < n; i++) /* sorted: a handful at most */
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(keys[j], keys[i]) < 0) {
				const char *t = keys[i];
				keys[i] = keys[j];
				keys[j] = t;
			}
	for (size_t i = 0; i < n; i++)
		json_array_append(out, json_object_get(by_name, keys[i]));
	free(keys);
	json_decref(by_name);
	return out;
}
