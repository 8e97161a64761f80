/* Docker's privilege flags into capability sets (secopts.h). */
#include "secopts.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../image/image.h" /* bx_strv_free */

static bool has_all(char **v)
{
	for (; v && *v; v++)
		if (!strcasecmp(*v, "ALL"))
			return true;
	return false;
}

static int caps_of(char **v, const char *field, uint64_t *mask, struct bx_err *err)
{
	*mask = 0;
	for (; v && *v; v++) {
		if (!strcasecmp(*v, "ALL"))
			continue;
		int n = bx_cap_parse(*v);
		if (n < 0) {
			const char *bare = strncasecmp(*v, "CAP_", 4) ? *v : *v + 4;
			char up[64];
			size_t i = 0;
			for (; bare[i] && i < sizeof(up) - 1; i++)
				up[i] = (char)(bare[i] >= 'a' && bare[i] <= 'z' ? bare[i] - 32 : bare[i]);
			up[i] = 0;
			return bx_fail(err, 0, "invalid %s: unknown capability: \"CAP_%s\"", field, up);
		}
		*mask |= 1ULL << n;
	}
	return 0;
}

/* "no-new-privileges" or "no-new-privileges=true|false"; -1: not that option */
static int nnp_value(const char *opt)
{
	static const char key[] = "no-new-privileges";
	if (strncmp(opt, key, sizeof(key) - 1))
		return -1;
	const char *rest = opt + sizeof(key) - 1;
	if (!*rest)
		return 1;
	if (*rest != '=' && *rest != ':')
		return -1;
	return !strcmp(rest + 1, "true") ? 1 : !strcmp(rest + 1, "false") ? 0 : -1;
}

int bx_secopts_check(const struct bx_secopts *o, struct bx_err *err)
{
	for (char **s = o->security_opt; s && *s; s++)
		if (nnp_value(*s) < 0)
			return bx_fail(err, 0, "Invalid --security-opt: \"%s\"", *s);
	uint64_t m;
	return caps_of(o->cap_add, "CapAdd", &m, err) < 0 || caps_of(o->cap_drop, "CapDrop", &m, err) < 0 ? -1 : 0;
}

int bx_secopts_apply(const struct bx_secopts *o, struct bx_spec *spec, struct bx_err *err)
{
	uint64_t add, drop, set;
	if (caps_of(o->cap_add, "CapAdd", &add, err) < 0 || caps_of(o->cap_drop, "CapDrop", &drop, err) < 0)
		return -1;
	if (o->privileged)
		set = BX_CAPS_ALL;
	else if (has_all(o->cap_drop))
		set = has_all(o->cap_add) ? BX_CAPS_ALL : add;
	else if (has_all(o->cap_add))
		set = BX_CAPS_ALL & ~drop;
	else
		set = (BX_CAPS_DOCKER_DEFAULT & ~drop) | add;
	spec->caps = (struct bx_spec_caps){.set = true, .bounding = set, .effective = set, .permitted = set};
	for (char **s = o->security_opt; s && *s; s++)
		if (nnp_value(*s) >= 0)
			spec->no_new_privs = nnp_value(*s) == 1; /* the last one given counts */
	return 0;
}

static json_t *strv_or_null(char **v)
{
	if (!v || !*v)
		return json_null();
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

json_t *bx_secopts_host_config(const struct bx_secopts *o)
{
	return json_pack("{s:o,s:o,s:b,s:o}", "CapAdd", strv_or_null(o->cap_add), "CapDrop", strv_or_null(o->cap_drop),
			 "Privileged", o->privileged, "SecurityOpt", strv_or_null(o->security_opt));
}

void bx_secopts_free(struct bx_secopts *o)
{
	bx_strv_free(o->cap_add);
	bx_strv_free(o->cap_drop);
	bx_strv_free(o->security_opt);
	*o = (struct bx_secopts){0};
}
