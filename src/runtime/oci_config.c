/* config.json -> box (see oci_config.h for the mapping and the policy on
 * unsupported fields). */
#include "oci_config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "../box/seccomp.h"
#include "../common/cleanup.h"

long long bx_oci_size_mb(const char *text)
{
	if (!text || !isdigit((unsigned char)*text))
		return -1;
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	unsigned long long mul = 1;
	char unit = (char)tolower((unsigned char)*end);
	if (unit == 'k' || unit == 'm' || unit == 'g') {
		mul = unit == 'k' ? 1ULL << 10 : unit == 'm' ? 1ULL << 20 : 1ULL << 30;
		end++;
	}
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (*end || v > (1ULL << 44) / mul)
		return -1;
	return (long long)(v * mul >> 20);
}

static const struct {
	const char *name;
	int num;
} signals[] = {
	{"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},
	{"IOT", SIGIOT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
	{"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
	{"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
	{"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
	{"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO}, {"POLL", SIGPOLL}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
};

int bx_oci_signal_parse(const char *text)
{
	if (!text || !*text)
		return -1;
	if (isdigit((unsigned char)*text)) {
		char *end;
		long v = strtol(text, &end, 10);
		return *end || v < 1 || v > 64 ? -1 : (int)v;
	}
	const char *n = strncasecmp(text, "SIG", 3) ? text : text + 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (!strcasecmp(n, signals[i].name))
			return signals[i].num;
	if (!strncasecmp(n, "RTMIN", 5) || !strncasecmp(n, "RTMAX", 5)) {
		int base = !strncasecmp(n, "RTMIN", 5) ? SIGRTMIN : SIGRTMAX;
		if (!n[5])
			return base;
		char *end;
		long off = strtol(n + 5, &end, 10);
		/* range-check the offset itself: base + a huge one overflows int */
		if (*end || off < SIGRTMIN - base || off > SIGRTMAX - base)
			return -1;
		return base + (int)off;
	}
	return -1;
}

static int fail_field(struct bx_err *err, const char *field, const char *why)
{
	return bx_fail(err, 0, "invalid config.json: %s %s", field, why);
}

int bx_oci_rlimit_parse(const char *name)
{
	/* case matters here: runc knows "RLIMIT_NOFILE", not "rlimit_nofile" */
	if (!name || strncmp(name, "RLIMIT_", 7))
		return -1;
	for (const char *c = name + 7; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			return -1;
	return bx_rlimit_by_name(name + 7);
}

/* A limit value: a non-negative integer; -1 stands for a uint64 too big for
 * jansson (see clamp_big_ints) and so for "unlimited". */
static bool rlimit_value(json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < -1)
		return false;
	*out = json_integer_value(v) == -1 ? UINT64_MAX : (uint64_t)json_integer_value(v);
	return true;
}

/* process.rlimits: [{"type": "RLIMIT_NOFILE", "soft": N, "hard": N}, ...] */
static int rlimits_from_json(json_t *rl, struct bx_spec *spec, struct bx_err *err)
{
	if (rl && !json_is_array(rl))
		return fail_field(err, "process.rlimits", "must be an array");
	size_t i;
	json_t *r;
	json_array_foreach(rl, i, r) {
		const char *type = json_string_value(json_object_get(r, "type"));
		int res = bx_oci_rlimit_parse(type);
		if (res < 0)
			return bx_fail(err, 0, "invalid config.json: process.rlimits[%zu]: unknown type %s (want e.g. "
					       "RLIMIT_NOFILE)", i, type ? type : "(missing)");
		uint64_t soft, hard;
		if (!rlimit_value(json_object_get(r, "soft"), &soft) || !rlimit_value(json_object_get(r, "hard"), &hard))
			return bx_fail(err, 0, "invalid config.json: process.rlimits[%zu] (%s) needs numeric soft and "
					       "hard values", i, type);
		if (soft > hard)
			return bx_fail(err, 0, "invalid config.json: process.rlimits[%zu] (%s): soft %llu is above hard "
					       "%llu", i, type, (unsigned long long)soft, (unsigned long long)hard);
		if (bx_spec_add_rlimit(spec, (uint32_t)res, soft, hard, err) < 0)
			return -1;
	}
	return 0;
}

/* process.capabilities: the five sets, kept across the change of user as
 * runc keeps them. A name this kernel ABI lacks is skipped, as runc skips
 * an unknown or unavailable capability; no "capabilities" at all leaves the
 * process every capability. */
static int caps_from_json(json_t *caps, struct bx_spec *spec, struct bx_err *err)
{
	if (!caps || json_is_null(caps))
		return 0;
	if (!json_is_object(caps))
		return fail_field(err, "process.capabilities", "must be an object");
	static const char *const sets[] = {"bounding", "effective", "permitted", "inheritable", "ambient"};
	uint64_t mask[5] = {0};
	for (size_t s = 0; s < 5; s++) {
		json_t *list = json_object_get(caps, sets[s]);
		if (list && !json_is_array(list))
			return bx_fail(err, 0, "invalid config.json: process.capabilities.%s must be an array", sets[s]);
		size_t i;
		json_t *v;
		json_array_foreach(list, i, v) {
			if (!json_is_string(v))
				return bx_fail(err, 0, "invalid config.json: process.capabilities.%s[%zu] is not a string",
					       sets[s], i);
			int n = bx_cap_parse(json_string_value(v));
			if (n >= 0)
				mask[s] |= 1ULL << n;
		}
	}
	spec->caps = (struct bx_spec_caps){.set = true, .keep = true, .bounding = mask[0], .effective = mask[1],
					   .permitted = mask[2], .inheritable = mask[3], .ambient = mask[4]};
	return 0;
}

static int process_from_json(json_t *p, struct bx_spec *spec, struct bx_err *err)
{
	if (!json_is_object(p))
		return fail_field(err, "process", "must be an object");
	json_t *args = json_object_get(p, "args");
	if (!json_is_array(args) || json_array_size(args) == 0)
		return fail_field(err, "process.args", "must be a non-empty array (the command to run)");
	size_t i;
	json_t *v;
	json_array_foreach(args, i, v) {
		if (!json_is_string(v))
			return fail_field(err, "process.args", "must hold only strings");
		if (bx_spec_add_arg(spec, json_string_value(v), err) < 0)
			return -1;
	}
	json_t *env = json_object_get(p, "env");
	if (env && !json_is_array(env))
		return fail_field(err, "process.env", "must be an array of \"NAME=VALUE\" strings");
	json_array_foreach(env, i, v) {
		if (!json_is_string(v) || !strchr(json_string_value(v), '='))
			return fail_field(err, "process.env", "must be an array of \"NAME=VALUE\" strings");
		if (bx_spec_add_env(spec, json_string_value(v), err) < 0)
			return -1;
	}
	json_t *cwd = json_object_get(p, "cwd");
	if (cwd && (!json_is_string(cwd) || json_string_value(cwd)[0] != '/'))
		return fail_field(err, "process.cwd", "must be an absolute path");
	if (bx_spec_set_cwd(spec, cwd ? json_string_value(cwd) : "/", err) < 0)
		return -1;
	json_t *user = json_object_get(p, "user");
	if (user) {
		json_t *uid = json_object_get(user, "uid"), *gid = json_object_get(user, "gid");
		if (!json_is_object(user) || (uid && !json_is_integer(uid)) || (gid && !json_is_integer(gid)) ||
		    json_integer_value(uid) < 0 || json_integer_value(gid) < 0)
			return fail_field(err, "process.user", "must have numeric uid and gid");
		if (json_object_get(user, "username"))
			return fail_field(err, "process.user.username", "is for Windows containers");
		char ug[48];
		snprintf(ug, sizeof(ug), "%lld:%lld", (long long)json_integer_value(uid), (long long)json_integer_value(gid));
		if (bx_spec_set_user(spec, ug, err) < 0)
			return -1;
		json_t *extra = json_object_get(user, "additionalGids");
		if (extra && !json_is_array(extra))
			return fail_field(err, "process.user.additionalGids", "must be an array of numeric gids");
		json_array_foreach(extra, i, v) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX - 1)
				return fail_field(err, "process.user.additionalGids", "must be an array of numeric gids");
			if (bx_spec_add_group(spec, (uint32_t)json_integer_value(v), err) < 0)
				return -1;
		}
	}
	json_t *term = json_object_get(p, "terminal");
	if (term && !json_is_boolean(term))
		return fail_field(err, "process.terminal", "must be true or false");
	spec->tty = json_is_true(term);
	/* the caller's stdin (a pipe or the terminal) is always forwarded: a
	 * runtime cannot know whether it is open, and EOF is passed on as EOF */
	spec->stdin_open = true;
	/* an OCI process is complete: the guest adds nothing of the main
	 * process's env, user or cwd to an exec, and its groups are its own
	 * additionalGids (runc runs exactly this process) */
	spec->exact = true;
	if (rlimits_from_json(json_object_get(p, "rlimits"), spec, err) < 0 ||
	    caps_from_json(json_object_get(p, "capabilities"), spec, err) < 0)
		return -1;
	json_t *nnp = json_object_get(p, "noNewPrivileges");
	if (nnp && !json_is_boolean(nnp))
		return fail_field(err, "process.noNewPrivileges", "must be true or false");
	spec->no_new_privs = json_is_true(nnp);
	json_t *oom = json_object_get(p, "oomScoreAdj");
	if (oom && !json_is_null(oom)) {
		if (!json_is_integer(oom) || json_integer_value(oom) < -1000 || json_integer_value(oom) > 1000)
			return fail_field(err, "process.oomScoreAdj", "must be a number from -1000 to 1000");
		spec->oom_score_adj_set = true;
		spec->oom_score_adj = (int32_t)json_integer_value(oom);
	}
	static const char *const rejected[] = {"ioPriority", "scheduler", "execCPUAffinity"};
	for (size_t k = 0; k < sizeof(rejected) / sizeof(rejected[0]); k++)
		if (json_object_get(p, rejected[k]))
			return bx_fail(err, 0, "config.json: process.%s is not supported by boxvm-runtime", rejected[k]);
	return 0;
}

/* OCI's uint64 fields (rlimits of "unlimited": 18446744073709551615) do not
 * fit jansson's int64: a copy of the text with every unsigned integer above
 * INT64_MAX written as -1, which the fields that can hold one read as
 * "unlimited". NULL on allocation failure. */
static char *clamp_big_ints(const char *text)
{
	size_t n = strlen(text);
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	bool in_str = false;
	for (const char *p = text; *p;) {
		if (in_str) {
			if (*p == '\\' && p[1])
				*o++ = *p++;
			else if (*p == '"')
				in_str = false;
			*o++ = *p++;
			continue;
		}
		if (*p == '"')
			in_str = true;
		if (!isdigit((unsigned char)*p)) {
			*o++ = *p++;
			continue;
		}
		size_t len = strspn(p, "0123456789");
		/* an unsigned integer, not a fraction's or exponent's digits */
		bool plain = !(p[len] && strchr(".eE", p[len])) && (p == text || !strchr("-+.eE", p[-1]));
		bool big = plain && (len > 19 || (len == 19 && strncmp(p, "9223372036854775807", 19) > 0));
		if (big) {
			memcpy(o, "-1", 2);
			o += 2;
		} else {
			memcpy(o, p, len);
			o += len;
		}
		p += len;
	}
	*o = '\0';
	return out;
}

static json_t *load(const char *text, json_error_t *je)
{
	_cleanup_free_ char *clamped = clamp_big_ints(text);
	return json_loads(clamped ? clamped : text, 0, je);
}

int bx_oci_process_parse(const char *json_text, struct bx_spec *spec, struct bx_err *err)
{
	json_error_t je;
	_cleanup_json_ json_t *p = load(json_text, &je);
	if (!p)
		return bx_fail(err, 0, "invalid process JSON: %s (line %d)", je.text, je.line);
	return process_from_json(p, spec, err);
}

static bool has_option(json_t *options, const char *opt)
{
	size_t i;
	json_t *v;
	json_array_foreach(options, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), opt))
			return true;
	return false;
}

/* tmpfs options boxvm's guest understands: size= and mode= (the mount flags
 * nosuid/nodev/noexec are what the agent uses anyway) */
/* A tmpfs gets the flags its options name and no others (runc's rule; the
 * guest's defaults are Docker's --tmpfs nosuid,nodev,noexec, so each flag is
 * spelled out), and its size= and mode=. */
static void tmpfs_options(json_t *options, char *out, size_t size)
{
	snprintf(out, size, "%s,%s,%s,%s", has_option(options, "ro") ? "ro" : "rw",
		 has_option(options, "nosuid") ? "nosuid" : "suid", has_option(options, "nodev") ? "nodev" : "dev",
		 has_option(options, "noexec") ? "noexec" : "exec");
	size_t used = strlen(out), i;
	json_t *v;
	json_array_foreach(options, i, v) {
		const char *o = json_string_value(v);
		if (!o || (strncmp(o, "size=", 5) && strncmp(o, "mode=", 5)))
			continue;
		int n = snprintf(out + used, size - used, ",%s", o);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

/* Made by the guest agent in every box (src/agent/mounts.c). */
static bool guest_made(const char *type, const char *dest)
{
	static const char *const kernel_fs[] = {"proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2"};
	for (size_t i = 0; i < sizeof(kernel_fs) / sizeof(kernel_fs[0]); i++)
		if (!strcmp(type, kernel_fs[i]))
			return true;
	return !strcmp(type, "tmpfs") && (!strcmp(dest, "/dev") || !strcmp(dest, "/dev/shm"));
}

/* bundle: where a relative bind source lies (runc joins it to the bundle) */
static int mounts_from_json(json_t *mounts, const char *bundle, struct bx_oci_config *c, struct bx_err *err)
{
	if (mounts && !json_is_array(mounts))
		return fail_field(err, "mounts", "must be an array");
	size_t i, nbinds = 0;
	json_t *m;
	json_array_foreach(mounts, i, m) {
		const char *dest = json_string_value(json_object_get(m, "destination"));
		const char *type = json_string_value(json_object_get(m, "type"));
		const char *src = json_string_value(json_object_get(m, "source"));
		json_t *options = json_object_get(m, "options");
		if (!dest || dest[0] != '/')
			return bx_fail(err, 0, "invalid config.json: mounts[%zu].destination must be an absolute path", i);
		if (options && !json_is_array(options))
			return bx_fail(err, 0, "invalid config.json: mounts[%zu].options must be an array", i);
		bool bind = (type && !strcmp(type, "bind")) || has_option(options, "bind") || has_option(options, "rbind");
		if (!type && !bind)
			return bx_fail(err, 0, "invalid config.json: mounts[%zu] (%s) has no type", i, dest);
		if (!bind && guest_made(type, dest))
			continue;
		if (c->nmounts >= BX_OCI_MAX_MOUNTS)
			return bx_fail(err, 0, "config.json: too many mounts (at most %d)", BX_OCI_MAX_MOUNTS);
		struct bx_mount_req *r = &c->mounts[c->nmounts];
		memset(r, 0, sizeof(*r));
		r->ro = has_option(options, "ro");
		if (snprintf(r->target, sizeof(r->target), "%s", dest) >= (int)sizeof(r->target))
			return bx_fail(err, 0, "config.json: mount destination %.64s... is too long", dest);
		if (bind) {
			if (!src || !*src)
				return bx_fail(err, 0, "invalid config.json: bind mount on %s needs a source", dest);
			if (++nbinds > BX_MAX_SHARES)
				return bx_fail(err, 0, "config.json: too many bind mounts (boxvm serves at most %d)",
					       BX_MAX_SHARES);
			r->kind = BX_MNT_BIND;
			int n = src[0] == '/' ? snprintf(r->source, sizeof(r->source), "%s", src)
					      : snprintf(r->source, sizeof(r->source), "%s/%s", bundle, src);
			if (n < 0 || (size_t)n >= sizeof(r->source))
				return bx_fail(err, 0, "config.json: bind source of %s is too long", dest);
		} else if (!strcmp(type, "tmpfs")) {
			r->kind = BX_MNT_TMPFS;
			tmpfs_options(options, r->options, sizeof(r->options));
		} else {
			return bx_fail(err, 0, "config.json: mount type \"%s\" on %s is not supported by boxvm-runtime "
					       "(bind, tmpfs and the kernel filesystems are)", type, dest);
		}
		c->nmounts++;
	}
	return 0;
}

static int namespaces_from_json(json_t *lx, struct bx_oci_config *c, struct bx_err *err)
{
	json_t *nss = json_object_get(lx, "namespaces");
	if (nss && !json_is_array(nss))
		return fail_field(err, "linux.namespaces", "must be an array");
	size_t i;
	json_t *ns;
	json_array_foreach(nss, i, ns) {
		const char *type = json_string_value(json_object_get(ns, "type"));
		const char *path = json_string_value(json_object_get(ns, "path"));
		if (!type)
			return fail_field(err, "linux.namespaces", "entries need a type");
		if (!strcmp(type, "user"))
			return bx_fail(err, 0, "config.json: user namespaces are not supported by boxvm-runtime (the "
					       "VM is the isolation boundary; drop userns/uidMappings)");
		if (!strcmp(type, "uts")) {
			if (path && *path && path[0] != '/')
				return fail_field(err, "linux.namespaces uts path", "must be absolute");
			if (path && *path)
				snprintf(c->uts_path, sizeof(c->uts_path), "%s", path);
			c->uts_new = !(path && *path);
			continue;
		}
		if (strcmp(type, "network"))
			continue; /* pid, mount, ipc, cgroup: the VM has all of its own */
		if (path && *path) {
			if (path[0] != '/')
				return fail_field(err, "linux.namespaces network path", "must be absolute");
			c->netns_join = true;
			c->network = true;
			snprintf(c->netns_path, sizeof(c->netns_path), "%s", path);
		}
	}
	if (json_array_size(json_object_get(lx, "uidMappings")) || json_array_size(json_object_get(lx, "gidMappings")))
		return bx_fail(err, 0, "config.json: uid/gid mappings are not supported by boxvm-runtime");
	return 0;
}

/* linux.sysctl: written to the guest's /proc/sys before the process (the
 * agent, as runc does); a key can only name a file there. */
static int sysctls_from_json(json_t *lx, struct bx_oci_config *c, struct bx_err *err)
{
	json_t *sys = json_object_get(lx, "sysctl");
	if (!sys || json_is_null(sys))
		return 0;
	if (!json_is_object(sys))
		return fail_field(err, "linux.sysctl", "must be an object of strings");
	const char *k;
	json_t *v;
	json_object_foreach(sys, k, v) {
		bool ok = *k && json_is_string(v) && !strstr(k, "..") && k[0] != '.';
		for (const char *ch = k; ok && *ch; ch++)
			ok = isalnum((unsigned char)*ch) || *ch == '_' || *ch == '-' || *ch == '.' || *ch == '/';
		if (!ok)
			return bx_fail(err, 0, "invalid config.json: linux.sysctl %.64s", k);
		char kv[4096];
		if (snprintf(kv, sizeof(kv), "%s=%s", k, json_string_value(v)) >= (int)sizeof(kv))
			return bx_fail(err, 0, "config.json: linux.sysctl %.64s is too long", k);
		for (char *ch = kv; *ch != '='; ch++)
			if (*ch == '/')
				*ch = '.'; /* runc takes "net/ipv4/ip_forward" too */
		if (bx_spec_add_sysctl(&c->spec, kv, err) < 0)
			return -1;
	}
	return 0;
}

/* An integer field of linux.resources (absent or null: 0) */
static int res_int(json_t *o, const char *key, const char *what, int64_t *out, struct bx_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return fail_field(err, what, "must be an integer");
	*out = json_integer_value(v);
	return 0;
}

static int resources_from_json(json_t *lx, struct bx_oci_config *c, struct bx_err *err)
{
	json_t *res = json_object_get(lx, "resources");
	json_t *mem = json_object_get(res, "memory"), *pids = json_object_get(res, "pids");
	int64_t limit = 0, reservation = 0, pids_limit = 0, shares = 0;
	if (res_int(mem, "limit", "linux.resources.memory.limit", &limit, err) < 0 ||
	    res_int(mem, "reservation", "linux.resources.memory.reservation", &reservation, err) < 0 ||
	    res_int(pids, "limit", "linux.resources.pids.limit", &pids_limit, err) < 0 ||
	    res_int(json_object_get(res, "cpu"), "shares", "linux.resources.cpu.shares", &shares, err) < 0)
		return -1;
	/* runc's -1 is no limit; the swap limit is moot in a guest without swap */
	if (limit > BX_RES_MEMORY_MAX)
		return bx_fail(err, 0, "invalid config.json: linux.resources.memory.limit %lld is above 1 TiB",
			       (long long)limit);
	if (limit > 0) {
		c->res.memory = limit;
		c->mem_mb = bx_resources_vm_mb(&c->res); /* the VM around the limit */
	}
	if (reservation > 0)
		c->res.memory_reservation = reservation;
	c->res.pids_limit = pids_limit > 0 ? pids_limit : 0;
	c->res.cpu_shares = shares > 0 ? shares : 0;
	json_t *cpu = json_object_get(res, "cpu");
	const char *cpus = json_string_value(json_object_get(cpu, "cpus"));
	if (cpus && *cpus && bx_resources_flag(&c->res, "cpuset-cpus", cpus, err) < 0)
		return bx_wrap(err, "invalid config.json: linux.resources.cpu.cpus");
	json_t *quota = json_object_get(cpu, "quota"), *period = json_object_get(cpu, "period");
	if (json_is_integer(quota) && json_integer_value(quota) > 0) {
		long long per = json_is_integer(period) && json_integer_value(period) > 0 ? json_integer_value(period) : 100000;
		long long n = (json_integer_value(quota) + per - 1) / per;
		c->cpus = (int)(n < 1 ? 1 : n > 64 ? 64 : n);
	}
	return 0;
}

static int annotations_from_json(json_t *ann, struct bx_oci_config *c, struct bx_err *err)
{
	const char *mem = json_string_value(json_object_get(ann, "io.boxvm.memory"));
	const char *cpus = json_string_value(json_object_get(ann, "io.boxvm.cpus"));
	const char *ports = json_string_value(json_object_get(ann, "io.boxvm.ports"));
	if (mem) {
		long long mb = bx_oci_size_mb(mem);
		if (mb < 64)
			return bx_fail(err, 0, "annotation io.boxvm.memory=%s: want a size of at least 64m (e.g. 512m)", mem);
		c->mem_mb = (int)(mb > 1 << 20 ? 1 << 20 : mb);
	}
	if (cpus) {
		char *end;
		long n = strtol(cpus, &end, 10);
		if (*end || end == cpus || n < 1 || n > 64)
			return bx_fail(err, 0, "annotation io.boxvm.cpus=%s: want a number of vCPUs from 1 to 64", cpus);
		c->cpus = (int)n;
	}
	/* Kubernetes never tells a runtime a pod's ports: in a joined namespace
	 * every port goes to the box unless the annotation lists the ones to
	 * forward ("" for none, e.g. a sidecar that serves nothing). Not the
	 * pod's sandbox ("pause") container: started first, it would hold every
	 * port and leave none for the pod's workload. */
	const char *ctd_type = json_string_value(json_object_get(ann, "io.kubernetes.cri.container-type"));
	const char *crio_type = json_string_value(json_object_get(ann, "io.kubernetes.cri-o.ContainerType"));
	bool sandbox = (ctd_type && !strcmp(ctd_type, "sandbox")) || (crio_type && !strcmp(crio_type, "sandbox"));
	c->all_ports = c->network && !ports && !sandbox;
	if (ports && *ports) {
		if (!c->network)
			return bx_fail(err, 0, "annotation io.boxvm.ports needs a network namespace with a path "
					       "(the box has no network otherwise)");
		char buf[1024];
		snprintf(buf, sizeof(buf), "%s", ports);
		char *save = NULL;
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (c->nports >= BX_MAX_PORTS)
				return bx_fail(err, 0, "annotation io.boxvm.ports: at most %d ports", BX_MAX_PORTS);
			if (bx_port_parse(t, &c->ports[c->nports], err) < 0)
				return bx_wrap(err, "annotation io.boxvm.ports");
			c->nports++;
		}
	}
	return 0;
}

/* config.json's hooks, checked whole at create (a hook that could never run
 * must fail create, not poststop). They run on the host (hooks.c), as Kata's
 * do: the VM is the container's namespace, and nothing of the host runs in
 * it. startContainer alone must run inside the container, before its
 * process: the guest has no way to run a host program, so it is refused. */
#define HOOKS_PER_KIND_MAX 64
#define HOOK_WORDS_MAX 1024
static int words_ok(json_t *a, const char *kind, size_t i, const char *field, struct bx_err *err)
{
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > HOOK_WORDS_MAX)
		return bx_fail(err, 0, "config.json: hooks.%s[%zu].%s: want an array of at most %d strings", kind, i,
			       field, HOOK_WORDS_MAX);
	size_t j;
	json_t *w;
	json_array_foreach(a, j, w)
		if (!json_is_string(w))
			return bx_fail(err, 0, "config.json: hooks.%s[%zu].%s[%zu] is not a string", kind, i, field, j);
	return 0;
}

static int hooks_from_json(json_t *hooks, struct bx_oci_config *c, struct bx_err *err)
{
	if (!hooks || json_is_null(hooks))
		return 0;
	if (!json_is_object(hooks))
		return bx_fail(err, 0, "config.json: hooks is not an object");
	static const char *const kinds[] = {"prestart", "createRuntime", "createContainer", "poststart", "poststop"};
	const char *k;
	json_t *list;
	bool any = false;
	json_object_foreach(hooks, k, list) {
		bool known = false;
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			known = known || !strcmp(k, kinds[i]);
		if (!strcmp(k, "startContainer") && json_array_size(list))
			return bx_fail(err, 0, "config.json: hooks.startContainer is not supported by boxvm-runtime (it "
					       "must run inside the container, and the VM cannot run a host program; "
					       "use createRuntime or poststart, which run on the host)");
		if (!known)
			continue; /* as runc: a kind it does not know is not run */
		if (!json_is_array(list) || json_array_size(list) > HOOKS_PER_KIND_MAX)
			return bx_fail(err, 0, "config.json: hooks.%s: want an array of at most %d hooks", k,
				       HOOKS_PER_KIND_MAX);
		size_t i;
		json_t *h;
		json_array_foreach(list, i, h) {
			const char *path = json_string_value(json_object_get(h, "path"));
			json_t *timeout = json_object_get(h, "timeout");
			if (!json_is_object(h) || !path || path[0] != '/')
				return bx_fail(err, 0, "config.json: hooks.%s[%zu].path: want an absolute path", k, i);
			if (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) <= 0 ||
					json_integer_value(timeout) > 86400))
				return bx_fail(err, 0, "config.json: hooks.%s[%zu].timeout: want whole seconds above 0",
					       k, i);
			if (words_ok(json_object_get(h, "args"), k, i, "args", err) < 0 ||
			    words_ok(json_object_get(h, "env"), k, i, "env", err) < 0)
				return -1;
			any = true;
		}
	}
	if (any && !(c->hooks_json = json_dumps(hooks, JSON_COMPACT)))
		return bx_fail(err, ENOMEM, "out of memory");
	return 0;
}

/* linux.seccomp: compiled here, on the host, into the filter the agent loads
 * for the process and, as runc does, for every exec */
static int seccomp_from_json(json_t *lx, struct bx_oci_config *c, struct bx_err *err)
{
	json_t *sc = json_object_get(lx, "seccomp");
	if (!sc || json_is_null(sc))
		return 0;
	struct bx_seccomp_profile prof;
	const struct bx_seccomp_target none = {0}; /* (OCI's format has no includes/excludes) */
	if (bx_seccomp_parse(sc, BX_SECCOMP_OCI, &none, &prof, err) < 0)
		return bx_wrap(err, "config.json: linux.seccomp");
	int rc = bx_seccomp_compile(&prof, &c->spec, err);
	bx_seccomp_profile_free(&prof);
	return rc < 0 ? bx_wrap(err, "config.json: linux.seccomp") : 0;
}

/* linux.maskedPaths and linux.readonlyPaths: made by the agent before the
 * process as runc makes them (the guest's /proc and /sys) */
static int paths_from_json(json_t *lx, const char *field, int (*add)(struct bx_spec *, const char *, struct bx_err *),
			   struct bx_spec *spec, struct bx_err *err)
{
	json_t *list = json_object_get(lx, field);
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return bx_fail(err, 0, "invalid config.json: linux.%s must be an array of absolute paths", field);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		const char *p = json_string_value(v);
		if (!p || p[0] != '/')
			return bx_fail(err, 0, "invalid config.json: linux.%s[%zu] must be an absolute path", field, i);
		if (add(spec, p, err) < 0)
			return bx_wrap(err, "config.json: linux.%s", field);
	}
	return 0;
}

/* Fields that would change what the workload gets and that a VM cannot honour. */
static int reject_unsupported(json_t *lx, struct bx_err *err)
{
	if (json_array_size(json_object_get(lx, "devices")))
		return bx_fail(err, 0, "config.json: linux.devices is not supported by boxvm-runtime (host devices "
				       "cannot be passed into the VM; drop --device/--privileged)");
	static const char *const rejected[] = {"intelRdt", "personality", "timeOffsets"};
	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++)
		if (json_object_get(lx, rejected[i]))
			return bx_fail(err, 0, "config.json: linux.%s is not supported by boxvm-runtime", rejected[i]);
	return 0;
}

static int parse(json_t *root, const char *bundle, struct bx_oci_config *c, struct bx_err *err)
{
	if (!json_is_object(root))
		return bx_fail(err, 0, "invalid config.json: not a JSON object");
	const char *ver = json_string_value(json_object_get(root, "ociVersion"));
	if (!ver || strncmp(ver, "1.", 2))
		return bx_fail(err, 0, "invalid config.json: ociVersion %s is not 1.x", ver ? ver : "(missing)");
	json_t *rootobj = json_object_get(root, "root");
	const char *rp = json_string_value(json_object_get(rootobj, "path"));
	if (!rp || !*rp)
		return fail_field(err, "root.path", "is missing");
	int n = rp[0] == '/' ? snprintf(c->root_path, sizeof(c->root_path), "%s", rp)
			     : snprintf(c->root_path, sizeof(c->root_path), "%s/%s", bundle, rp);
	if (n < 0 || (size_t)n >= sizeof(c->root_path))
		return fail_field(err, "root.path", "is too long");
	c->spec.read_only = json_is_true(json_object_get(rootobj, "readonly"));
	if (!json_object_get(root, "process"))
		return fail_field(err, "process", "is missing");
	if (process_from_json(json_object_get(root, "process"), &c->spec, err) < 0)
		return -1;
	const char *host = json_string_value(json_object_get(root, "hostname"));
	if (host && *host && bx_spec_set_hostname(&c->spec, host, err) < 0)
		return -1;
	json_t *lx = json_object_get(root, "linux");
	if (reject_unsupported(lx, err) < 0 || hooks_from_json(json_object_get(root, "hooks"), c, err) < 0 || mounts_from_json(json_object_get(root, "mounts"), bundle, c, err) < 0 ||
	    namespaces_from_json(lx, c, err) < 0 || resources_from_json(lx, c, err) < 0 ||
	    sysctls_from_json(lx, c, err) < 0 || seccomp_from_json(lx, c, err) < 0 ||
	    paths_from_json(lx, "maskedPaths", bx_spec_add_masked_path, &c->spec, err) < 0 ||
	    paths_from_json(lx, "readonlyPaths", bx_spec_add_readonly_path, &c->spec, err) < 0)
		return -1;
	return annotations_from_json(json_object_get(root, "annotations"), c, err);
}

int bx_oci_config_parse(const char *json_text, const char *bundle, struct bx_oci_config *c, struct bx_err *err)
{
	memset(c, 0, sizeof(*c));
	bx_spec_init(&c->spec);
	json_error_t je;
	_cleanup_json_ json_t *root = load(json_text, &je);
	if (!root)
		return bx_fail(err, 0, "invalid config.json: %s (line %d)", je.text, je.line);
	int rc = parse(root, bundle, c, err);
	if (rc < 0)
		bx_oci_config_free(c);
	return rc;
}

void bx_oci_config_free(struct bx_oci_config *c)
{
	bx_spec_free(&c->spec);
	bx_spec_init(&c->spec);
	free(c->hooks_json);
	c->hooks_json = NULL;
}
