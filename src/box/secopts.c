/* Docker's privilege flags into capability sets (secopts.h). */
#include "secopts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/paths.h" /* bx_read_file */
#include "../image/image.h" /* bx_strv_free */
#include "seccomp.h"

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

/* the value of "seccomp=V" (or the old "seccomp:V"), else NULL */
static const char *seccomp_value(const char *opt)
{
	return !strncmp(opt, "seccomp", 7) && (opt[7] == '=' || opt[7] == ':') ? opt + 8 : NULL;
}

/* the last seccomp= given (Docker keeps the last), or NULL */
static const char *seccomp_of(const struct bx_secopts *o)
{
	const char *v = NULL;
	for (char **s = o->security_opt; s && *s; s++)
		if (seccomp_value(*s))
			v = seccomp_value(*s);
	return v;
}

int bx_secopts_read_profiles(struct bx_secopts *o, struct bx_err *err)
{
	for (char **s = o->security_opt; s && *s; s++) {
		const char *path = seccomp_value(*s);
		if (!path || !strcmp(path, "unconfined"))
			continue;
		char *text = NULL;
		size_t len = 0;
		struct bx_err rerr = {0};
		if (bx_read_file(path, &text, &len, &rerr) < 0) {
			char why[128]; /* Go's words: strerror's, lower case */
			snprintf(why, sizeof(why), "%.120s", rerr.errnum ? strerror(rerr.errnum) : rerr.msg);
			why[0] = (char)tolower((unsigned char)why[0]);
			return bx_fail(err, 0, "opening seccomp profile (%s) failed: open %s: %s", path, path, why);
		}
		json_error_t je;
		json_t *j = len <= BX_SECCOMP_MAX_TEXT ? json_loadb(text, len, 0, &je) : NULL;
		free(text);
		if (!j)
			return bx_fail(err, 0, "compacting json for seccomp profile (%s) failed: %s", path,
				       len > BX_SECCOMP_MAX_TEXT ? "file too large" : je.text);
		/* Docker's client sends the profile itself, compacted: SecurityOpt keeps it */
		char *compact = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(j);
		char *opt = NULL;
		if (!compact || asprintf(&opt, "seccomp=%s", compact) < 0) {
			free(compact);
			return bx_fail(err, ENOMEM, "out of memory");
		}
		free(compact);
		free(*s);
		*s = opt;
	}
	return 0;
}

/* systempaths=unconfined (Docker 20.10's way to keep /proc and /sys whole) */
static bool systempaths_unconfined(const struct bx_secopts *o)
{
	bool v = false;
	for (char **s = o->security_opt; s && *s; s++)
		if (!strncmp(*s, "systempaths=", 12))
			v = !strcmp(*s + 12, "unconfined");
	return v;
}

int bx_shm_size_parse(const char *text, int64_t *bytes, struct bx_err *err)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	unsigned long long mult = 1;
	switch (*end | 0x20) {
	case 'b' | 0x20: case ' ': break; /* (' ' is what '\0' | 0x20 gives) */
	case 'k': mult = 1ULL << 10; break;
	case 'm': mult = 1ULL << 20; break;
	case 'g': mult = 1ULL << 30; break;
	default: mult = 0;
	}
	if (*end && end[1] && !((end[1] | 0x20) == 'b' && !end[2]))
		mult = 0;
	if (errno || end == text || *text == '-' || !mult || v > (1ULL << 40) / mult)
		return bx_fail(err, 0, "invalid argument \"%s\" for \"--shm-size\" flag: invalid size: '%s'", text, text);
	*bytes = (int64_t)(v * mult);
	return 0;
}

int bx_secopts_check(const struct bx_secopts *o, struct bx_err *err)
{
	if (o->oom_score_adj < -1000 || o->oom_score_adj > 1000)
		return bx_fail(err, 0, "Invalid value %d, range for oom score adj is [-1000, 1000].", o->oom_score_adj);
	if (o->shm_size < 0)
		return bx_fail(err, 0, "SHM size can not be less than 0");
	char **const lists[] = {o->masked_paths, o->readonly_paths};
	for (int l = 0; l < 2; l++)
		for (char **p = lists[l]; p && *p; p++)
			if (**p != '/' || strlen(*p) > 4096)
				return bx_fail(err, 0, "invalid masked or read-only path \"%.64s\": it must be absolute", *p);
	for (char **g = o->group_add; g && *g; g++)
		if (!**g || strlen(*g) > 256 || strchr(*g, ':') || strchr(*g, '\n'))
			return bx_fail(err, 0, "invalid --group-add \"%.64s\": a group name or number", *g);
	for (char **s = o->security_opt; s && *s; s++) {
		const char *sc = seccomp_value(*s);
		if (!sc && nnp_value(*s) < 0 && strcmp(*s, "systempaths=unconfined"))
			return bx_fail(err, 0, "Invalid --security-opt: \"%s\"", *s);
		if (sc && strcmp(sc, "unconfined")) {
			/* the whole profile checked now, whatever the capabilities pick of it */
			struct bx_seccomp_profile prof;
			const struct bx_seccomp_target any = {.bounding = BX_CAPS_ALL};
			if (bx_seccomp_parse_text(sc, strlen(sc), BX_SECCOMP_DOCKER, &any, &prof, err) < 0)
				return -1;
			bx_seccomp_profile_free(&prof);
		}
	}
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

int bx_secopts_seccomp(const struct bx_secopts *o, const char *kernel_release, struct bx_spec *spec,
		       struct bx_err *err)
{
	const char *v = seccomp_of(o);
	/* Docker: --privileged and seccomp=unconfined run without a filter */
	if (o->privileged || (v && !strcmp(v, "unconfined")))
		return bx_spec_set_seccomp(spec, NULL, 0, err);
	struct bx_seccomp_target t = {.bounding = spec->caps.set ? spec->caps.bounding : BX_CAPS_ALL};
	bx_seccomp_kernel_version(kernel_release, &t.kernel_major, &t.kernel_minor);
	struct bx_seccomp_profile prof;
	const char *text = v ? v : bx_seccomp_docker_default;
	size_t len = v ? strlen(v) : bx_seccomp_docker_default_len;
	if (bx_seccomp_parse_text(text, len, BX_SECCOMP_DOCKER, &t, &prof, err) < 0)
		return -1;
	int rc = bx_seccomp_compile(&prof, spec, err);
	bx_seccomp_profile_free(&prof);
	return rc;
}

int bx_secopts_confine(const struct bx_secopts *o, struct bx_spec *spec, struct bx_err *err)
{
	for (char **g = o->group_add; g && *g; g++) {
		char *end;
		unsigned long gid = strtoul(*g, &end, 10);
		/* Docker: a number is a gid as is, a name is looked up in the box's /etc/group */
		int r = *end || **g < '0' || **g > '9' || gid > UINT32_MAX - 1 ? bx_spec_add_group_name(spec, *g, err)
									       : bx_spec_add_group(spec, (uint32_t)gid, err);
		if (r < 0)
			return -1;
	}
	if (o->oom_score_adj) {
		spec->oom_score_adj_set = true;
		spec->oom_score_adj = o->oom_score_adj;
	}
	spec->shm_size = (uint64_t)o->shm_size;
	if (o->privileged)
		return 0;
	const char *const *masked = o->masked_given ? (const char *const *)o->masked_paths
				    : systempaths_unconfined(o) ? NULL : bx_docker_masked_paths;
	const char *const *ro = o->readonly_given ? (const char *const *)o->readonly_paths
				: systempaths_unconfined(o) ? NULL : bx_docker_readonly_paths;
	for (const char *const *p = masked; p && *p; p++)
		if (bx_spec_add_masked_path(spec, *p, err) < 0)
			return -1;
	for (const char *const *p = ro; p && *p; p++)
		if (bx_spec_add_readonly_path(spec, *p, err) < 0)
			return -1;
	return 0;
}

/* Docker's record: null when privileged, what the API gave, [] with
 * systempaths=unconfined, else Docker's list */
static json_t *paths_json(const struct bx_secopts *o, bool given, char **mine, const char *const *dflt)
{
	if (o->privileged)
		return json_null();
	json_t *a = json_array();
	const char *const *p = given ? (const char *const *)mine : systempaths_unconfined(o) ? NULL : dflt;
	for (; p && *p; p++)
		json_array_append_new(a, json_string(*p));
	return a;
}

/* SecurityOpt as given, but Docker's client turns systempaths= into the
 * paths themselves and leaves it out */
static json_t *security_opt_json(char **v)
{
	if (!v || !*v)
		return json_null();
	json_t *a = json_array();
	for (; *v; v++)
		if (strncmp(*v, "systempaths=", 12))
			json_array_append_new(a, json_string(*v));
	return a;
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

static json_t *bx_secopts_host_config_base(const struct bx_secopts *o);

/* --init: Docker runs docker-init (tini) as the container's PID 1 with main
 * as its child, to reap orphans and pass signals on. In a box main is never
 * PID 1: the agent is, and it already reaps every orphan and delivers the
 * box's signals to main (whose default actions then apply, as under
 * docker-init). So --init changes nothing but the record; what differs from
 * Docker is what ps shows: /init (the agent) as PID 1, no docker-init line. */
json_t *bx_secopts_host_config(const struct bx_secopts *o)
{
	json_t *hc = bx_secopts_host_config_base(o);
	if (hc)
		json_object_set_new(hc, "Init", o->init_given ? json_boolean(o->init) : json_null());
	return hc;
}

static json_t *bx_secopts_host_config_base(const struct bx_secopts *o)
{
	return json_pack("{s:o,s:o,s:b,s:o,s:o,s:i,s:I,s:o,s:o}", "CapAdd", strv_or_null(o->cap_add), "CapDrop",
			 strv_or_null(o->cap_drop), "Privileged", o->privileged, "SecurityOpt",
			 security_opt_json(o->security_opt), "GroupAdd", strv_or_null(o->group_add), "OomScoreAdj",
			 o->oom_score_adj, "ShmSize", (json_int_t)(o->shm_size ? o->shm_size : 64LL << 20), "MaskedPaths",
			 paths_json(o, o->masked_given, o->masked_paths, bx_docker_masked_paths), "ReadonlyPaths",
			 paths_json(o, o->readonly_given, o->readonly_paths, bx_docker_readonly_paths));
}

void bx_secopts_free(struct bx_secopts *o)
{
	bx_strv_free(o->cap_add);
	bx_strv_free(o->cap_drop);
	bx_strv_free(o->security_opt);
	bx_strv_free(o->group_add);
	bx_strv_free(o->masked_paths);
	bx_strv_free(o->readonly_paths);
	*o = (struct bx_secopts){0};
}
