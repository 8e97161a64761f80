/* POST /containers/create's body into box options (createmap.h). */
#include "createmap.h"
#include "route.h"
#include "../vm/cgroup.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Docker's "unset" for any JSON value: null, false, 0, "", and arrays or
 * objects holding only unset values ([0,0] is the CLI's ConsoleSize). */
static bool unset(const json_t *v)
{
	size_t i;
	const char *k;
	json_t *e;
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE: return true;
	case JSON_INTEGER: return json_integer_value(v) == 0;
	case JSON_REAL: return json_real_value(v) == 0;
	case JSON_STRING: return json_string_length(v) == 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, e) if (!unset(e)) return false;
		return true;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, k, e) if (!unset(e)) return false;
		return true;
	default: return false;
	}
}

/* a field this mapping knows, whether it reads it or only checks it is unset */
static bool known(const char *const *keys, const char *k)
{
	for (; *keys; keys++)
		if (!strcmp(*keys, k))
			return true;
	return false;
}

/* every key of o that is set must be one of keys; else 400 naming it */
static int only(const json_t *o, const char *what, const char *const *keys, struct bx_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		if (!known(keys, k) && !unset(v) && !(!strcmp(k, "MemorySwappiness") && json_integer_value(v) == -1))
			return api_bad(err, "%s.%s is not supported by boxvm (every box is a microVM); leave it unset",
				       what, k);
	}
	return 0;
}

static int want_type(const json_t *v, json_type t, const char *what, const char *tname, struct bx_err *err)
{
	if (v && !json_is_null(v) && json_typeof(v) != t)
		return api_bad(err, "%s must be %s", what, tname);
	return 0;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : NULL;
}

/* an array of strings appended to *dst */
static int strings(const json_t *o, const char *key, const char *what, char ***dst, struct bx_err *err)
{
	json_t *a = json_object_get(o, key);
	if (want_type(a, JSON_ARRAY, what, "an array of strings", err) < 0)
		return -1;
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		if (!json_is_string(e))
			return api_bad(err, "%s must be an array of strings", what);
		if (bx_strv_append(dst, json_string_value(e), err) < 0)
			return -1;
	}
	return 0;
}

/* a formatted string appended to *dst */
static int appendf(char ***dst, struct bx_err *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int appendf(char ***dst, struct bx_err *err, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	int rc = bx_strv_append(dst, s, err);
	free(s);
	return rc;
}

static const char *const config_keys[] = {
	"Image", "Cmd", "Entrypoint", "Env", "WorkingDir", "User", "Hostname", "Tty", "OpenStdin", "StdinOnce",
	"AttachStdin", "AttachStdout", "AttachStderr", "Labels", "StopSignal", "StopTimeout", "ExposedPorts",
	"Volumes", "Healthcheck", "HostConfig", "NetworkingConfig", NULL};
static const char *const host_keys[] = {
	"Binds", "Mounts", "PortBindings", "RestartPolicy", "AutoRemove", "Memory", "NanoCpus", "Tmpfs",
	"ReadonlyRootfs", "NetworkMode", "Dns", "DnsSearch", "DnsOptions", "ExtraHosts", "LogConfig", "Ulimits", "Sysctls", "CapAdd",
	"CapDrop", "Privileged", "SecurityOpt", "MemoryReservation", "MemorySwap", "PidsLimit", "CpuShares", "CpusetCpus",
	"GroupAdd", "OomScoreAdj", "ShmSize", "MaskedPaths", "ReadonlyPaths",
	"Init", /* recorded: the agent is every box's init (box/secopts.c) */
	"ConsoleSize", /* -t: the terminal's size, which the client's resize after the start sets */
	NULL};
static const char *const mount_keys[] = {"Type", "Source", "Target", "ReadOnly", NULL};

static int map_config(const json_t *cfg, struct api_create *c, struct bx_err *err)
{
	if (only(cfg, "Config", config_keys, err) < 0)
		return -1;
	c->image = str(cfg, "Image");
	if (!c->image)
		return api_bad(err, "Config.Image is required: the image to create the box from");
	if (strings(cfg, "Cmd", "Config.Cmd", &c->ro.command, err) < 0 || strings(cfg, "Env", "Config.Env", &c->ro.env, err) < 0)
		return -1;
	json_t *ep = json_object_get(cfg, "Entrypoint");
	if (want_type(ep, JSON_ARRAY, "Config.Entrypoint", "an array of strings", err) < 0)
		return -1;
	if (json_array_size(ep) > 1)
		return api_bad(err, "Config.Entrypoint of more than one word is not supported: put the other words "
					    "first in Cmd");
	if (json_array_size(ep) == 1) {
		if (!json_is_string(json_array_get(ep, 0)))
			return api_bad(err, "Config.Entrypoint must be an array of strings");
		c->ro.entrypoint = json_string_value(json_array_get(ep, 0));
	}
	c->ro.workdir = str(cfg, "WorkingDir");
	c->ro.user = str(cfg, "User");
	c->nm.hostname = str(cfg, "Hostname");
	/* stdin and the terminal reach main through an attach (attach.c) */
	c->ro.stdin_open = json_is_true(json_object_get(cfg, "OpenStdin"));
	c->ro.tty = json_is_true(json_object_get(cfg, "Tty"));
	c->lc.stop_signal = str(cfg, "StopSignal");
	json_t *st = json_object_get(cfg, "StopTimeout");
	if (st && !json_is_null(st)) {
		if (!json_is_integer(st) || json_integer_value(st) < 0 || json_integer_value(st) > 86400)
			return api_bad(err, "Config.StopTimeout must be a number of seconds");
		c->lc.stop_timeout = (int)json_integer_value(st);
	}
	const char *k;
	json_t *v;
	json_t *labels = json_object_get(cfg, "Labels");
	if (want_type(labels, JSON_OBJECT, "Config.Labels", "an object of strings", err) < 0)
		return -1;
	json_object_foreach(labels, k, v) {
		if (!json_is_string(v) || !*k)
			return api_bad(err, "Config.Labels must be an object of strings");
		if (appendf(&c->lc.labels, err, "%s=%s", k, json_string_value(v)) < 0)
			return -1;
	}
	if (want_type(json_object_get(cfg, "Volumes"), JSON_OBJECT, "Config.Volumes", "an object", err) < 0)
		return -1;
	json_t *hc = json_object_get(cfg, "Healthcheck");
	if (hc && !json_is_null(hc)) {
		if (bx_health_config_from_json(hc, &c->health.cfg, err) < 0)
			return bx_wrap(err, "Config.Healthcheck");
		if (c->health.cfg.ntest == 1 && !strcmp(c->health.cfg.test[0], "NONE"))
			c->health.none = true;
		else
			c->health.any = !unset(hc);
	}
	return 0;
}

static int map_mounts(const json_t *host, struct api_create *c, struct bx_err *err)
{
	json_t *mounts = json_object_get(host, "Mounts");
	if (want_type(mounts, JSON_ARRAY, "HostConfig.Mounts", "an array", err) < 0)
		return -1;
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m) {
		if (!json_is_object(m))
			return api_bad(err, "HostConfig.Mounts must be an array of objects");
		if (only(m, "HostConfig.Mounts[]", mount_keys, err) < 0)
			return -1;
		const char *type = str(m, "Type"), *src = str(m, "Source"), *dst = str(m, "Target");
		bool ro = json_is_true(json_object_get(m, "ReadOnly"));
		if (!dst)
			return api_bad(err, "HostConfig.Mounts[%zu]: Target is required", i);
		if (type && !strcmp(type, "tmpfs")) {
			if (src || ro)
				return api_bad(err, "HostConfig.Mounts[%zu]: a tmpfs mount takes no Source or ReadOnly", i);
			if (bx_strv_append(&c->nm.tmpfs, dst, err) < 0)
				return -1;
			continue;
		}
		if (!type || (strcmp(type, "bind") && strcmp(type, "volume")))
			return api_bad(err, "HostConfig.Mounts[%zu]: Type must be bind, volume or tmpfs", i);
		if (!src && !strcmp(type, "bind"))
			return api_bad(err, "HostConfig.Mounts[%zu]: a bind mount needs a Source", i);
		if (!strcmp(type, "bind") && *src != '/')
			return api_bad(err, "HostConfig.Mounts[%zu]: a bind mount's Source must be an absolute path", i);
		if (!strcmp(type, "volume") && src && *src == '/')
			return api_bad(err, "HostConfig.Mounts[%zu]: a volume's Source is a volume name", i);
		/* as -v: SRC:DST[:ro], or DST alone for an anonymous volume */
		if (appendf(&c->nm.volumes, err, "%s%s%s%s", src ? src : "", src ? ":" : "", dst, src && ro ? ":ro" : "") < 0)
			return -1;
	}
	return 0;
}

static int map_ports(const json_t *host, struct api_create *c, struct bx_err *err)
{
	json_t *pb = json_object_get(host, "PortBindings");
	if (want_type(pb, JSON_OBJECT, "HostConfig.PortBindings", "an object", err) < 0)
		return -1;
	const char *port;
	json_t *binds;
	json_object_foreach(pb, port, binds) {
		if (want_type(binds, JSON_ARRAY, "HostConfig.PortBindings", "an object of arrays", err) < 0)
			return -1;
		size_t i;
		json_t *b;
		/* no binding at all: Docker publishes on a random host port, as -p PORT */
		if (!json_array_size(binds) && bx_strv_append(&c->nm.publish, port, err) < 0)
			return -1;
		json_array_foreach(binds, i, b) {
			const char *ip = str(b, "HostIp"), *hp = str(b, "HostPort");
			/* -p's forms: [IP:]HOSTPORT:PORT, and IP::PORT or PORT for a random host port */
			int r = hp   ? appendf(&c->nm.publish, err, "%s%s%s:%s", ip ? ip : "", ip ? ":" : "", hp, port)
				: ip ? appendf(&c->nm.publish, err, "%s::%s", ip, port)
				     : appendf(&c->nm.publish, err, "%s", port);
			if (r < 0)
				return -1;
		}
	}
	return 0;
}

static int map_host(const json_t *host, struct api_create *c, struct bx_err *err)
{
	if (only(host, "HostConfig", host_keys, err) < 0)
		return -1;
	if (strings(host, "Binds", "HostConfig.Binds", &c->nm.volumes, err) < 0 || map_mounts(host, c, err) < 0 ||
	    map_ports(host, c, err) < 0 || strings(host, "Dns", "HostConfig.Dns", &c->nm.dns, err) < 0 ||
	    strings(host, "DnsSearch", "HostConfig.DnsSearch", &c->nm.dns_search, err) < 0 ||
	    strings(host, "DnsOptions", "HostConfig.DnsOptions", &c->nm.dns_options, err) < 0 ||
	    strings(host, "ExtraHosts", "HostConfig.ExtraHosts", &c->nm.add_hosts, err) < 0 ||
	    strings(host, "CapAdd", "HostConfig.CapAdd", &c->sec.cap_add, err) < 0 ||
	    strings(host, "CapDrop", "HostConfig.CapDrop", &c->sec.cap_drop, err) < 0 ||
	    strings(host, "SecurityOpt", "HostConfig.SecurityOpt", &c->sec.security_opt, err) < 0)
		return -1;
	c->sec.privileged = json_is_true(json_object_get(host, "Privileged"));
	if (strings(host, "GroupAdd", "HostConfig.GroupAdd", &c->sec.group_add, err) < 0)
		return -1;
	/* null: Docker's paths; a list (the docker CLI's [] for systempaths=unconfined): exactly those */
	json_t *mp = json_object_get(host, "MaskedPaths"), *rop = json_object_get(host, "ReadonlyPaths");
	c->sec.masked_given = json_is_array(mp);
	c->sec.readonly_given = json_is_array(rop);
	if (strings(host, "MaskedPaths", "HostConfig.MaskedPaths", &c->sec.masked_paths, err) < 0 ||
	    strings(host, "ReadonlyPaths", "HostConfig.ReadonlyPaths", &c->sec.readonly_paths, err) < 0)
		return -1;
	json_t *oom = json_object_get(host, "OomScoreAdj"), *shm = json_object_get(host, "ShmSize");
	if (want_type(oom, JSON_INTEGER, "HostConfig.OomScoreAdj", "a number from -1000 to 1000", err) < 0 ||
	    want_type(shm, JSON_INTEGER, "HostConfig.ShmSize", "a number of bytes", err) < 0)
		return -1;
	if (json_integer_value(oom) < INT_MIN || json_integer_value(oom) > INT_MAX)
		return api_bad(err, "HostConfig.OomScoreAdj must be a number from -1000 to 1000");
	c->sec.oom_score_adj = (int)json_integer_value(oom);
	json_t *init = json_object_get(host, "Init");
	if (want_type(init, json_is_true(init) ? JSON_TRUE : JSON_FALSE, "HostConfig.Init", "true, false or null", err) < 0)
		return -1;
	c->sec.init_given = json_is_boolean(init);
	c->sec.init = json_is_true(init);
	c->sec.shm_size = (int64_t)json_integer_value(shm);
	json_t *sysctls = json_object_get(host, "Sysctls");
	if (want_type(sysctls, JSON_OBJECT, "HostConfig.Sysctls", "an object of strings", err) < 0)
		return -1;
	const char *sk;
	json_t *sv;
	json_object_foreach(sysctls, sk, sv) {
		if (!json_is_string(sv))
			return api_bad(err, "HostConfig.Sysctls must be an object of strings");
		if (appendf(&c->ro.sysctls, err, "%s=%s", sk, json_string_value(sv)) < 0)
			return -1;
	}
	json_t *ulimits = json_object_get(host, "Ulimits");
	if (want_type(ulimits, JSON_ARRAY, "HostConfig.Ulimits", "an array of {Name, Soft, Hard}", err) < 0)
		return -1;
	size_t ui;
	json_t *u;
	json_array_foreach(ulimits, ui, u) {
		const char *uname = str(u, "Name");
		json_t *soft = json_object_get(u, "Soft"), *hard = json_object_get(u, "Hard");
		if (!uname || !json_is_integer(soft) || !json_is_integer(hard))
			return api_bad(err, "HostConfig.Ulimits[%zu] must be {\"Name\": string, \"Soft\": number, "
					    "\"Hard\": number}", ui);
		/* as --ulimit NAME=SOFT:HARD: checked, then applied and recorded as the CLI's */
		if (appendf(&c->ro.ulimits, err, "%s=%lld:%lld", uname, (long long)json_integer_value(soft),
			    (long long)json_integer_value(hard)) < 0)
			return -1;
	}
	c->bo.auto_remove = json_is_true(json_object_get(host, "AutoRemove"));
	c->nm.read_only = json_is_true(json_object_get(host, "ReadonlyRootfs"));
	c->nm.network = str(host, "NetworkMode");
	json_t *rp = json_object_get(host, "RestartPolicy");
	const char *rname = str(rp, "Name");
	json_int_t retries = json_integer_value(json_object_get(rp, "MaximumRetryCount"));
	if (rname) {
		char spec[64];
		if (retries)
			snprintf(spec, sizeof(spec), "%s:%lld", rname, (long long)retries);
		else
			snprintf(spec, sizeof(spec), "%s", rname);
		if (bx_restart_policy_parse(spec, &c->lc.cfg.restart, err) < 0)
			return -1;
	}
	if (c->lc.cfg.restart.kind != BX_RESTART_NO && c->bo.auto_remove)
		return api_bad(err, "conflicting options: RestartPolicy and AutoRemove cannot be used together");
	/* the limits of the box's cgroup, checked with the CLI's flags (bx_resources_check) */
	const struct {
		const char *key;
		int64_t *field;
	} ints[] = {{"Memory", &c->res.memory},
		    {"MemoryReservation", &c->res.memory_reservation},
		    {"MemorySwap", &c->res.memory_swap},
		    {"PidsLimit", &c->res.pids_limit},
		    {"CpuShares", &c->res.cpu_shares}};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		json_t *v = json_object_get(host, ints[i].key);
		char what[64];
		snprintf(what, sizeof(what), "HostConfig.%s", ints[i].key);
		if (want_type(v, JSON_INTEGER, what, "a number", err) < 0)
			return -1;
		*ints[i].field = json_integer_value(v);
	}
	const char *cpuset = str(host, "CpusetCpus");
	if (cpuset && bx_resources_flag(&c->res, "cpuset-cpus", cpuset, err) < 0) {
		err->errnum = EINVAL; /* a bad parameter: 400 */
		return -1;
	}
	json_t *nano = json_object_get(host, "NanoCpus");
	if (want_type(nano, JSON_INTEGER, "HostConfig.NanoCpus", "a number", err) < 0)
		return -1;
	json_int_t n = json_integer_value(nano);
	if (n < 0 || n > 64000000000LL)
		return api_bad(err, "HostConfig.NanoCpus must be from 0 to 64 CPUs");
	if (n) {
		/* a VM has whole vCPUs: the quota rounded up; NanoCpus keeps what was asked */
		c->bo.cpus = (int)((n + 999999999) / 1000000000);
		c->lc.nano_cpus = n;
		c->bo.nano_cpus = n;
	}
	/* the same shares and CPUs hold the VM's host cgroup (src/vm/cgroup.h):
	 * its CPUs must be the host's too */
	if (c->res.cpu_shares < 0)
		return api_bad(err, "HostConfig.CpuShares must be >= 0");
	c->bo.cpu_shares = c->res.cpu_shares;
	if (c->res.cpuset_cpus[0]) {
		char online[BX_CPUSET_TEXT];
		bx_host_cpus(online, sizeof(online));
		if (bx_cpuset_check(c->res.cpuset_cpus, online, err) < 0)
			return -1; /* (EINVAL: a 400, in Docker's words) */
		snprintf(c->bo.cpuset_cpus, sizeof(c->bo.cpuset_cpus), "%s", c->res.cpuset_cpus);
	}
	if (bx_resources_check(&c->res, c->bo.cpus, err) < 0) {
		err->errnum = EINVAL; /* a bad parameter: 400 */
		return -1;
	}
	if (bx_resources_vm_mb(&c->res)) /* the VM around the limit (bx_box_make sizes it the same) */
		c->bo.mem_mb = bx_resources_vm_mb(&c->res);
	const char *k;
	json_t *v;
	json_t *tmpfs = json_object_get(host, "Tmpfs");
	if (want_type(tmpfs, JSON_OBJECT, "HostConfig.Tmpfs", "an object of strings", err) < 0)
		return -1;
	json_object_foreach(tmpfs, k, v) {
		const char *o = json_string_value(v);
		if (!o)
			return api_bad(err, "HostConfig.Tmpfs must be an object of strings");
		if (appendf(&c->nm.tmpfs, err, "%s%s%s", k, o && *o ? ":" : "", o && *o ? o : "") < 0)
			return -1;
	}
	json_t *log = json_object_get(host, "LogConfig");
	const char *ltype = str(log, "Type");
	if (ltype && strcmp(ltype, "json-file"))
		return api_bad(err, "HostConfig.LogConfig.Type %s is not supported: boxvm logs with json-file", ltype);
	json_object_foreach(json_object_get(log, "Config"), k, v) {
		if (!json_is_string(v))
			return api_bad(err, "HostConfig.LogConfig.Config must be an object of strings");
		/* as --log-opt K=V: checked, then kept as given (HostConfig.LogConfig.Config) */
		if (appendf(&c->lc.log_opts, err, "%s=%s", k, json_string_value(v)) < 0)
			return -1;
		char **last = c->lc.log_opts;
		while (last[1])
			last++;
		if (bx_log_opt_parse(*last, &c->lc.cfg.log, err) < 0)
			return -1;
	}
	return 0;
}

/* does a -v spec (SRC:DST[:OPTS] or DST) or a --tmpfs one (DST[:OPTS]) mount at dst? */
static bool mounts_at(char **specs, bool tmpfs, const char *dst)
{
	size_t dl = strlen(dst);
	for (; specs && *specs; specs++) {
		const char *t = *specs, *colon = strchr(t, ':');
		if (!tmpfs && colon && *t != '/') /* SRC:DST: a named volume's or bind's target */
			t = colon + 1;
		else if (!tmpfs && colon && *t == '/' && strchr(colon + 1, '/'))
			t = colon + 1; /* /HOST:/DST */
		size_t tl = strcspn(t, ":");
		if (tl == dl && !strncmp(t, dst, dl))
			return true;
	}
	return false;
}

/* Config.Volumes: anonymous volumes, as -v /PATH, unless Binds, Mounts or
 * Tmpfs mount something there already (Docker's rule: docker-compose sends
 * both Volumes {"/data":{}} and Binds ["vol:/data:rw"]) */
static int map_volumes(const json_t *vols, struct api_create *c, struct bx_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)vols, k, v) {
		if (!mounts_at(c->nm.volumes, false, k) && !mounts_at(c->nm.tmpfs, true, k) &&
		    bx_strv_append(&c->nm.volumes, k, err) < 0)
			return -1;
	}
	return 0;
}

/* NetworkingConfig.EndpointsConfig: aliases and the address on the network
 * HostConfig.NetworkMode names, nothing else */
static int map_networking(const json_t *nc, struct api_create *c, struct bx_err *err)
{
	static const char *const nc_keys[] = {"EndpointsConfig", NULL};
	static const char *const ep_keys[] = {"Aliases", "IPAMConfig", NULL};
	static const char *const ipam_keys[] = {"IPv4Address", NULL};
	if (!nc || json_is_null(nc))
		return 0;
	if (only(nc, "NetworkingConfig", nc_keys, err) < 0)
		return -1;
	const char *net;
	json_t *ep;
	json_object_foreach(json_object_get(nc, "EndpointsConfig"), net, ep) {
		if (!c->nm.network || strcmp(net, c->nm.network))
			return api_bad(err, "NetworkingConfig.EndpointsConfig: only the network HostConfig.NetworkMode "
						    "names (%s) can be configured at create; connect others afterwards",
				       c->nm.network ? c->nm.network : "default");
		if (only(ep, "EndpointsConfig", ep_keys, err) < 0 ||
		    only(json_object_get(ep, "IPAMConfig"), "IPAMConfig", ipam_keys, err) < 0 ||
		    strings(ep, "Aliases", "EndpointsConfig.Aliases", &c->nm.aliases, err) < 0)
			return -1;
		c->nm.ip = str(json_object_get(ep, "IPAMConfig"), "IPv4Address");
	}
	return 0;
}

int api_create_parse(json_t *body, const char *name, struct api_create *c, struct bx_err *err)
{
	memset(c, 0, sizeof(*c));
	bx_box_lc_init(&c->lc);
	c->bo.mem_mb = 512;
	c->bo.cpus = 2;
	c->body = json_incref(body);
	if (!json_is_object(body))
		return api_bad(err, "the body must be a JSON object (Docker's container config)");
	if (name && *name)
		c->lc.name = *name == '/' ? name + 1 : name;
	/* the Config fields are at the top level, HostConfig and NetworkingConfig beside them */
	json_t *host = json_object_get(body, "HostConfig");
	json_t *nc = json_object_get(body, "NetworkingConfig");
	int rc = map_config(body, c, err);
	if (rc == 0 && host && !json_is_null(host)) {
		if (!json_is_object(host))
			return api_bad(err, "HostConfig must be an object");
		rc = map_host(host, c, err);
	}
	if (rc == 0)
		rc = map_volumes(json_object_get(body, "Volumes"), c, err);
	if (rc == 0)
		rc = map_networking(nc, c, err);
	return rc;
}

void api_create_free(struct api_create *c)
{
	bx_strv_free(c->ro.env);
	bx_strv_free(c->ro.command);
	bx_strv_free(c->ro.ulimits);
	bx_strv_free(c->ro.sysctls);
	bx_netmount_free(&c->nm);
	bx_healthopts_free(&c->health);
	bx_secopts_free(&c->sec);
	bx_box_lc_free(&c->lc);
	json_decref(c->body);
	memset(c, 0, sizeof(*c));
}
