/* A seccomp profile's JSON into rules (seccomp.h): Docker's format as
 * Docker 20.10's setupSeccomp filters it (archMap, includes/excludes
 * against the final bounding set, the arch and the kernel), OCI's as runc's
 * specconv reads it. Pure: every list and string is bounded. */
#include "seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"

/* Docker's arch words (Go's names) for libseccomp's, and the SCMP_ARCH_ word
 * an archMap entry names it by */
static const struct {
	uint32_t token;
	const char *docker, *scmp;
} arch_names[] = {
	{SCMP_ARCH_X86_64, "amd64", "SCMP_ARCH_X86_64"},   {SCMP_ARCH_X86, "x86", "SCMP_ARCH_X86"},
	{SCMP_ARCH_AARCH64, "arm64", "SCMP_ARCH_AARCH64"}, {SCMP_ARCH_ARM, "arm", "SCMP_ARCH_ARM"},
	{SCMP_ARCH_PPC64LE, "ppc64le", "SCMP_ARCH_PPC64LE"}, {SCMP_ARCH_PPC64, "ppc64", "SCMP_ARCH_PPC64"},
	{SCMP_ARCH_S390X, "s390x", "SCMP_ARCH_S390X"},     {SCMP_ARCH_S390, "s390", "SCMP_ARCH_S390"},
	{SCMP_ARCH_MIPS64, "mips64", "SCMP_ARCH_MIPS64"},  {SCMP_ARCH_MIPSEL64, "mipsel64", "SCMP_ARCH_MIPSEL64"},
	{SCMP_ARCH_RISCV64, "riscv64", "SCMP_ARCH_RISCV64"},
};

static const char *native_docker_arch(const char **scmp)
{
	uint32_t native = seccomp_arch_native();
	for (size_t i = 0; i < sizeof(arch_names) / sizeof(arch_names[0]); i++)
		if (arch_names[i].token == native) {
			*scmp = arch_names[i].scmp;
			return arch_names[i].docker;
		}
	*scmp = "";
	return "";
}

void bx_seccomp_kernel_version(const char *release, unsigned *major, unsigned *minor)
{
	unsigned a = 0, b = 0;
	if (!release || sscanf(release, "%u.%u", &a, &b) != 2)
		a = b = 0;
	*major = a;
	*minor = b;
}

void bx_seccomp_profile_free(struct bx_seccomp_profile *p)
{
	/* (rules has a slot past nrules: the one being filled when parsing failed) */
	for (size_t i = 0; p->rules && i <= p->nrules; i++) {
		for (size_t j = 0; j < p->rules[i].nnames; j++)
			free(p->rules[i].names[j]);
		free(p->rules[i].names);
	}
	free(p->rules);
	memset(p, 0, sizeof(*p));
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token (runc: strip, lowercase, resolve) */
static int arch_token(json_t *v, const char *where, uint32_t *out, struct bx_err *err)
{
	const char *s = json_string_value(v);
	char low[32];
	size_t n = s ? strlen(s) : 0;
	if (!s || n <= 10 || n - 10 >= sizeof(low) || strncmp(s, "SCMP_ARCH_", 10))
		return bx_fail(err, 0, "seccomp profile: %s: unknown architecture %.40s%s", where, s ? s : "(not a string)",
			       n > 40 ? "..." : "");
	for (size_t i = 10; i <= n; i++)
		low[i - 10] = (char)tolower((unsigned char)s[i]);
	uint32_t t = seccomp_arch_resolve_name(low);
	if (!t)
		return bx_fail(err, 0, "seccomp profile: %s: unknown architecture %s", where, s);
	*out = t;
	return 0;
}

static int add_arch(struct bx_seccomp_profile *p, json_t *v, const char *where, struct bx_err *err)
{
	uint32_t t = 0; /* set by arch_token on success (-O2 cannot tell) */
	if (arch_token(v, where, &t, err) < 0)
		return -1;
	for (size_t i = 0; i < p->narches; i++)
		if (p->arches[i] == t)
			return 0;
	if (p->narches >= BX_SECCOMP_MAX_ARCHES)
		return bx_fail(err, 0, "seccomp profile: %s: more than %d architectures", where, BX_SECCOMP_MAX_ARCHES);
	p->arches[p->narches++] = t;
	return 0;
}

static int arches_of(json_t *obj, enum bx_seccomp_format fmt, struct bx_seccomp_profile *p, struct bx_err *err)
{
	json_t *list = json_object_get(obj, "architectures"), *map = json_object_get(obj, "archMap");
	if (list && !json_is_null(list) && !json_is_array(list))
		return bx_fail(err, 0, "seccomp profile: architectures must be an array");
	if (fmt == BX_SECCOMP_DOCKER && json_array_size(list) && json_array_size(map))
		return bx_fail(err, 0, "'architectures' and 'archMap' were specified in the seccomp profile, use "
				       "either 'architectures' or 'archMap'");
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (add_arch(p, v, "architectures", err) < 0)
			return -1;
	if (fmt != BX_SECCOMP_DOCKER || !map || json_is_null(map))
		return 0;
	if (!json_is_array(map))
		return bx_fail(err, 0, "seccomp profile: archMap must be an array");
	if (json_array_size(map) > BX_SECCOMP_MAX_RULES)
		return bx_fail(err, 0, "seccomp profile: archMap has more than %d entries", BX_SECCOMP_MAX_RULES);
	const char *scmp;
	native_docker_arch(&scmp);
	/* the entry of this machine's architecture: it and its subArchitectures */
	json_array_foreach(map, i, v) {
		const char *a = json_string_value(json_object_get(v, "architecture"));
		if (!json_is_object(v) || !a)
			return bx_fail(err, 0, "seccomp profile: archMap[%zu] needs an architecture", i);
		if (strcmp(a, scmp))
			continue;
		json_t *subs = json_object_get(v, "subArchitectures");
		if (subs && !json_is_null(subs) && !json_is_array(subs))
			return bx_fail(err, 0, "seccomp profile: archMap[%zu].subArchitectures must be an array", i);
		if (add_arch(p, json_object_get(v, "architecture"), "archMap", err) < 0)
			return -1;
		size_t j;
		json_t *s;
		json_array_foreach(subs, j, s)
			if (add_arch(p, s, "archMap", err) < 0)
				return -1;
		break;
	}
	return 0;
}

/* an action word and its errno (runc's getAction: ERRNO and TRACE return EPERM unless told) */
static int action_of(json_t *name, json_t *errno_ret, const char *where, uint32_t *out, struct bx_err *err)
{
	const char *s = json_string_value(name);
	if (!s)
		return bx_fail(err, 0, "seccomp profile: %s: action must be a string such as SCMP_ACT_ERRNO", where);
	uint32_t ret = EPERM;
	if (errno_ret && !json_is_null(errno_ret)) {
		if (!json_is_integer(errno_ret) || json_integer_value(errno_ret) < 0 ||
		    json_integer_value(errno_ret) > 0xffff)
			return bx_fail(err, 0, "seccomp profile: %s: errnoRet must be a number from 0 to 65535", where);
		ret = (uint32_t)json_integer_value(errno_ret);
	}
	if (!strcmp(s, "SCMP_ACT_KILL") || !strcmp(s, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(s, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(s, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(s, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO(ret);
	else if (!strcmp(s, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE(ret);
	else if (!strcmp(s, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(s, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else if (!strcmp(s, "SCMP_ACT_NOTIFY"))
		return bx_fail(err, 0, "seccomp profile: %s: SCMP_ACT_NOTIFY is not supported by boxvm (no listener "
				       "can reach into the VM)", where);
	else
		return bx_fail(err, 0, "seccomp profile: %s: string %.40s is not a valid action for seccomp", where, s);
	return 0;
}

static int op_of(const char *s, int *op)
{
	static const struct {
		const char *name;
		int op;
	} ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
		   {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
		   {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
	for (size_t i = 0; s && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(s, ops[i].name)) {
			*op = ops[i].op;
			return 0;
		}
	return -1;
}

/* a uint64 that jansson holds (its integers are int64: a value above 2^63-1 cannot be given) */
static int u64_of(json_t *v, bool required, uint64_t *out)
{
	if (!v || json_is_null(v)) {
		*out = 0;
		return required ? -1 : 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int args_of(json_t *args, const char *where, struct bx_seccomp_rule *r, struct bx_err *err)
{
	if (!args || json_is_null(args))
		return 0;
	if (!json_is_array(args))
		return bx_fail(err, 0, "seccomp profile: %s: args must be an array", where);
	if (json_array_size(args) > BX_SECCOMP_MAX_ARGS)
		return bx_fail(err, 0, "seccomp profile: %s: more than %d args conditions", where, BX_SECCOMP_MAX_ARGS);
	size_t i;
	json_t *a;
	json_array_foreach(args, i, a) {
		struct bx_seccomp_arg *c = &r->args[r->nargs];
		uint64_t index;
		if (!json_is_object(a) || u64_of(json_object_get(a, "index"), false, &index) < 0)
			return bx_fail(err, 0, "seccomp profile: %s: args[%zu] needs a numeric index", where, i);
		if (index > 5)
			return bx_fail(err, 0, "error creating seccomp syscall condition for syscall %s: syscalls only have "
					       "up to 6 arguments (index %llu given)", where, (unsigned long long)index);
		if (u64_of(json_object_get(a, "value"), false, &c->value) < 0 ||
		    u64_of(json_object_get(a, "valueTwo"), false, &c->value_two) < 0)
			return bx_fail(err, 0, "seccomp profile: %s: args[%zu] value and valueTwo must be numbers from 0 "
					       "to 9223372036854775807", where, i);
		const char *op = json_string_value(json_object_get(a, "op"));
		if (op_of(op, &c->op) < 0)
			return bx_fail(err, 0, "seccomp profile: %s: args[%zu]: op %.40s is not a valid operator (want "
					       "e.g. SCMP_CMP_EQ)", where, i, op ? op : "(missing)");
		c->index = (unsigned)index;
		r->nargs++;
	}
	return 0;
}

static bool in_strings(json_t *list, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

/* Docker's cap words ("CAP_SYS_ADMIN") against the bounding set */
static bool cap_held(const char *word, uint64_t bounding)
{
	if (strncmp(word, "CAP_", 4))
		return false; /* Docker compares "CAP_X" strings: another spelling is never in its list */
	int n = bx_cap_parse(word);
	return n >= 0 && !strcmp(word + 4, bx_cap_name(n)) && (bounding & (1ULL << n));
}

/* "4.8" -> 4, 8 (Docker's KernelVersion: two parts, each 0..255, not both 0); 0: none given */
static int min_kernel(json_t *v, const char *where, unsigned *maj, unsigned *min, struct bx_err *err)
{
	*maj = *min = 0;
	if (!v || json_is_null(v))
		return 0;
	const char *s = json_string_value(v);
	if (!s)
		return bx_fail(err, 0, "seccomp profile: %s: invalid kernel version, expected \"<kernel>.<major>\"", where);
	if (!*s)
		return 0;
	char tail;
	unsigned a, b;
	int na = 0, nb = 0;
	if (sscanf(s, "%u%n.%u%n%c", &a, &na, &b, &nb, &tail) != 2 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[na + 1]) || a > 255 || b > 255 || (a == 0 && b == 0))
		return bx_fail(err, 0, "seccomp profile: %s: invalid kernel version: %.20s, expected \"<kernel>.<major>\"",
			       where, s);
	*maj = a;
	*min = b;
	return 0;
}

static bool kernel_at_least(const struct bx_seccomp_target *t, unsigned maj, unsigned min)
{
	return t->kernel_major > maj || (t->kernel_major == maj && t->kernel_minor >= min);
}

/* Docker's includes/excludes: does the rule apply to this box? */
static int applies(json_t *call, const char *where, const struct bx_seccomp_target *t, bool *yes, struct bx_err *err)
{
	const char *scmp, *arch = native_docker_arch(&scmp);
	json_t *inc = json_object_get(call, "includes"), *exc = json_object_get(call, "excludes");
	if ((inc && !json_is_null(inc) && !json_is_object(inc)) || (exc && !json_is_null(exc) && !json_is_object(exc)))
		return bx_fail(err, 0, "seccomp profile: %s: includes and excludes must be objects", where);
	const char *parts[] = {"caps", "arches"};
	for (int w = 0; w < 2; w++)
		for (int k = 0; k < 2; k++) {
			json_t *l = json_object_get(w ? exc : inc, parts[k]);
			if (l && !json_is_null(l) && (!json_is_array(l) || json_array_size(l) > 64))
				return bx_fail(err, 0, "seccomp profile: %s: %s.%s must be an array of at most 64 strings",
					       where, w ? "excludes" : "includes", parts[k]);
		}
	unsigned emaj, emin, imaj, imin;
	if (min_kernel(json_object_get(exc, "minKernel"), where, &emaj, &emin, err) < 0 ||
	    min_kernel(json_object_get(inc, "minKernel"), where, &imaj, &imin, err) < 0)
		return -1;
	*yes = false;
	size_t i;
	json_t *v;
	if (in_strings(json_object_get(exc, "arches"), arch))
		return 0;
	json_array_foreach(json_object_get(exc, "caps"), i, v)
		if (json_is_string(v) && cap_held(json_string_value(v), t->bounding))
			return 0;
	if ((emaj || emin) && kernel_at_least(t, emaj, emin))
		return 0;
	json_t *arches = json_object_get(inc, "arches");
	if (json_array_size(arches) && !in_strings(arches, arch))
		return 0;
	json_array_foreach(json_object_get(inc, "caps"), i, v)
		if (!json_is_string(v) || !cap_held(json_string_value(v), t->bounding))
			return 0;
	if ((imaj || imin) && !kernel_at_least(t, imaj, imin))
		return 0;
	*yes = true;
	return 0;
}

static int add_name(struct bx_seccomp_rule *r, json_t *v, const char *where, size_t *total, struct bx_err *err)
{
	const char *s = json_string_value(v);
	if (!s || !*s)
		return bx_fail(err, 0, "seccomp profile: %s: a syscall name must be a non-empty string", where);
	if (strlen(s) > BX_SECCOMP_MAX_NAME)
		return bx_fail(err, 0, "seccomp profile: %s: syscall name %.40s... is too long", where, s);
	if (++*total > BX_SECCOMP_MAX_NAMES)
		return bx_fail(err, 0, "seccomp profile: more than %d syscall names", BX_SECCOMP_MAX_NAMES);
	char **nv = realloc(r->names, (r->nnames + 2) * sizeof(*nv));
	if (!nv)
		return bx_fail(err, ENOMEM, "out of memory");
	r->names = nv;
	if (!(nv[r->nnames] = strdup(s)))
		return bx_fail(err, ENOMEM, "out of memory");
	nv[++r->nnames] = NULL;
	return 0;
}

static int rules_of(json_t *calls, enum bx_seccomp_format fmt, const struct bx_seccomp_target *t,
		    struct bx_seccomp_profile *p, struct bx_err *err)
{
	if (!calls || json_is_null(calls))
		return 0;
	if (!json_is_array(calls))
		return bx_fail(err, 0, "seccomp profile: syscalls must be an array");
	if (json_array_size(calls) > BX_SECCOMP_MAX_RULES)
		return bx_fail(err, 0, "seccomp profile: more than %d syscalls entries", BX_SECCOMP_MAX_RULES);
	if (!(p->rules = calloc(json_array_size(calls) + 1, sizeof(*p->rules))))
		return bx_fail(err, ENOMEM, "out of memory");
	size_t i, total = 0;
	json_t *call;
	json_array_foreach(calls, i, call) {
		char where[48];
		snprintf(where, sizeof(where), "syscalls[%zu]", i);
		if (!json_is_object(call))
			return bx_fail(err, 0, "seccomp profile: %s must be an object", where);
		bool yes = true;
		if (fmt == BX_SECCOMP_DOCKER && applies(call, where, t, &yes, err) < 0)
			return -1;
		struct bx_seccomp_rule *r = &p->rules[p->nrules];
		if (action_of(json_object_get(call, "action"), json_object_get(call, "errnoRet"), where, &r->action,
			      err) < 0 ||
		    args_of(json_object_get(call, "args"), where, r, err) < 0)
			return -1;
		json_t *name = fmt == BX_SECCOMP_DOCKER ? json_object_get(call, "name") : NULL;
		json_t *names = json_object_get(call, "names");
		if (names && !json_is_null(names) && !json_is_array(names))
			return bx_fail(err, 0, "seccomp profile: %s: names must be an array of strings", where);
		if (name && !json_is_null(name) && !(json_is_string(name) && !*json_string_value(name))) {
			if (json_array_size(names))
				return bx_fail(err, 0, "'name' and 'names' were specified in the seccomp profile, use either "
						       "'name' or 'names'");
			if (add_name(r, name, where, &total, err) < 0)
				return -1;
		}
		size_t j;
		json_t *v;
		json_array_foreach(names, j, v)
			if (add_name(r, v, where, &total, err) < 0)
				return -1;
		if (!yes) { /* checked whole, but not for this box */
			for (size_t k = 0; k < r->nnames; k++)
				free(r->names[k]);
			free(r->names);
			memset(r, 0, sizeof(*r));
			continue;
		}
		p->nrules++;
	}
	return 0;
}

int bx_seccomp_parse(json_t *obj, enum bx_seccomp_format fmt, const struct bx_seccomp_target *t,
		     struct bx_seccomp_profile *p, struct bx_err *err)
{
	memset(p, 0, sizeof(*p));
	if (!json_is_object(obj))
		return bx_fail(err, 0, "seccomp profile: not a JSON object");
	json_t *def = json_object_get(obj, "defaultAction"), *calls = json_object_get(obj, "syscalls");
	if (def && !json_is_null(def) && !json_is_string(def))
		return bx_fail(err, 0, "seccomp profile: defaultAction must be a string such as SCMP_ACT_ERRNO");
	if (fmt == BX_SECCOMP_OCI) {
		if (json_array_size(json_object_get(obj, "flags")))
			return bx_fail(err, 0, "seccomp profile: flags are not supported by boxvm (drop linux.seccomp.flags)");
		const char *lp = json_string_value(json_object_get(obj, "listenerPath"));
		if (lp && *lp)
			return bx_fail(err, 0, "seccomp profile: listenerPath is not supported by boxvm (no listener can "
					       "reach into the VM)");
	}
	/* no default action and no syscalls: seccomp off, as Docker and runc read it */
	if ((!json_string_value(def) || !*json_string_value(def)) && !json_array_size(calls)) {
		p->none = true;
		return 0;
	}
	json_t *def_errno = fmt == BX_SECCOMP_OCI ? json_object_get(obj, "defaultErrnoRet") : NULL;
	if (action_of(def, def_errno, "defaultAction", &p->default_action, err) < 0 || arches_of(obj, fmt, p, err) < 0 ||
	    rules_of(calls, fmt, t, p, err) < 0) {
		bx_seccomp_profile_free(p);
		return -1;
	}
	return 0;
}

int bx_seccomp_parse_text(const char *text, size_t len, enum bx_seccomp_format fmt, const struct bx_seccomp_target *t,
			  struct bx_seccomp_profile *p, struct bx_err *err)
{
	memset(p, 0, sizeof(*p));
	if (len > BX_SECCOMP_MAX_TEXT)
		return bx_fail(err, 0, "seccomp profile is %zu bytes, over boxvm's limit of %u", len, BX_SECCOMP_MAX_TEXT);
	json_error_t je;
	_cleanup_json_ json_t *o = json_loadb(text, len, 0, &je);
	if (!o)
		return bx_fail(err, 0, "Decoding seccomp profile failed: %s (line %d)", je.text, je.line);
	return bx_seccomp_parse(o, fmt, t, p, err);
}
