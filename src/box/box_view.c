/* How boxes are shown (box_view.h). */
#include "box_view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netspec_view.h"
#include "../image/image.h"
#include "../image/image_inspect.h"
#include "../store/health.h"
#include "../store/logfile.h"
#include "../store/networks.h"
#include "../vm/vmspec.h"

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *sorted_copy(json_t *obj)
{
	size_t n = json_object_size(obj), k = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	json_t *out = json_object();
	if (!keys || !out) {
		free(keys);
		return out;
	}
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) keys[k++] = key;
	qsort(keys, n, sizeof(*keys), by_key);
	for (size_t i = 0; i < n; i++)
		json_object_set(out, keys[i], json_object_get(obj, keys[i]));
	free(keys);
	return out;
}

void bx_docker_config_defaults(json_t *config, json_t *empty_labels)
{
	if (!json_is_object(config)) {
		json_decref(empty_labels);
		return;
	}
	static const char *const strings[] = {"Domainname", "User", "WorkingDir", "StopSignal"};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		json_t *v = json_object_get(config, strings[i]);
		if (!v || json_is_null(v))
			json_object_set_new(config, strings[i], json_string(""));
	}
	static const char *const nulls[] = {"Cmd", "Volumes", "Entrypoint", "OnBuild"};
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!json_object_get(config, nulls[i]))
			json_object_set_new(config, nulls[i], json_null());
	json_t *labels = json_object_get(config, "Labels");
	if (json_is_object(labels) && json_object_size(labels))
		json_object_set_new(config, "Labels", sorted_copy(labels));
	else
		json_object_set(config, "Labels", empty_labels);
	json_decref(empty_labels);
}

void bx_human_duration(long long ns, char *out, size_t size)
{
	long long s = ns / 1000000000LL;
	long long m = s / 60, h = s / 3600;
	if (s < 1)
		snprintf(out, size, "Less than a second");
	else if (s == 1)
		snprintf(out, size, "1 second");
	else if (s < 60)
		snprintf(out, size, "%lld seconds", s);
	else if (m == 1)
		snprintf(out, size, "About a minute");
	else if (m < 60)
		snprintf(out, size, "%lld minutes", m);
	else if (h == 1)
		snprintf(out, size, "About an hour");
	else if (h < 48)
		snprintf(out, size, "%lld hours", h);
	else if (h < 24 * 7 * 2)
		snprintf(out, size, "%lld days", h / 24);
	else if (h < 24 * 30 * 2)
		snprintf(out, size, "%lld weeks", h / 24 / 7);
	else if (h < 24 * 365 * 2)
		snprintf(out, size, "%lld months", h / 24 / 30);
	else
		snprintf(out, size, "%lld years", h / 24 / 365);
}

void bx_box_status_line(const struct bx_box_record *r, long long now, char *out, size_t size)
{
	char d[64];
	switch (r->status) {
	case BX_BOX_RUNNING:
	case BX_BOX_PAUSED: {
		bx_human_duration(now - r->started_ns, d, sizeof(d));
		/* Docker's State.String: "(Paused)" first, else the health's */
		int h = r->status == BX_BOX_RUNNING ? bx_health_status_read(r->box_dir) : -1;
		snprintf(out, size, "Up %s%s%s%s", d, r->status == BX_BOX_PAUSED ? " (Paused)" : "",
			 h == BX_HEALTH_STARTING ? " (health: starting)" : h >= 0 ? " (" : "",
			 h > BX_HEALTH_STARTING ? bx_health_status_name((enum bx_health_status)h) : "");
		if (h > BX_HEALTH_STARTING)
			strncat(out, ")", size - strlen(out) - 1);
		break;
	}
	case BX_BOX_RESTARTING:
		bx_human_duration(now - r->finished_ns, d, sizeof(d));
		snprintf(out, size, "Restarting (%d) %s ago", r->exit_code, d);
		break;
	case BX_BOX_EXITED:
		bx_human_duration(now - r->finished_ns, d, sizeof(d));
		snprintf(out, size, "Exited (%d) %s ago", r->exit_code, d);
		break;
	case BX_BOX_REMOVING:
		snprintf(out, size, "Removal In Progress");
		break;
	default:
		snprintf(out, size, "Created");
	}
}

void bx_time_rfc3339(long long ns, char *out, size_t size)
{
	char t[40];
	if (ns <= 0) {
		snprintf(out, size, "0001-01-01T00:00:00Z");
		return;
	}
	bx_log_time_format(ns, t);
	snprintf(out, size, "%s", t);
}

static json_t *read_config(const struct bx_box_record *r)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/config.json", r->box_dir) < 0)
		return NULL;
	return json_load_file(path, 0, NULL);
}

static void labels_text(json_t *labels, char *out, size_t size)
{
	size_t o = 0;
	const char *k;
	json_t *v;
	out[0] = '\0';
	json_object_foreach(labels, k, v)
	{
		int n = snprintf(out + o, size - o, "%s%s=%s", o ? "," : "", k, json_string_value(v) ? json_string_value(v) : "");
		if (n < 0 || (size_t)n >= size - o)
			break;
		o += (size_t)n;
	}
}

/* The box's published ports as stored in its vm.json (host ports resolved at
 * create time and reused by every start). Returns the count; 0 if none or unreadable. */
static int stored_ports(const struct bx_box_record *r, struct bx_port *out)
{
	char path[PATH_MAX];
	struct bx_vmspec *vm = calloc(1, sizeof(*vm)); /* large */
	int n = 0;
	if (vm && bx_path_join(path, sizeof(path), NULL, "%s/vm.json", r->box_dir) == 0 &&
	    bx_vmspec_read(path, vm, NULL) == 0) {
		n = vm->nports;
		memcpy(out, vm->ports, sizeof(*out) * (size_t)n);
	}
	free(vm);
	return n;
}

/* NetworkSettings.Networks: the box's named networks (vm.json) in Docker's
 * shape, aliases from the network's record (they change with connect). */
static json_t *networks_json(const struct bx_box_record *r, bool up)
{
	char path[PATH_MAX];
	json_t *o = json_object();
	struct bx_vmspec *vm = calloc(1, sizeof(*vm)); /* large */
	struct bx_paths p;
	if (!vm || bx_path_join(path, sizeof(path), NULL, "%s/vm.json", r->box_dir) < 0 ||
	    bx_vmspec_read(path, vm, NULL) < 0 || bx_paths_init(&p, NULL) < 0) {
		free(vm);
		return o;
	}
	for (int i = 0; i < vm->nnets; i++) {
		const struct bx_vm_net *n = &vm->nets[i];
		json_t *aliases = json_array(), *rec = NULL, *ipam = json_null();
		if (bx_network_get(&p, n->id, &rec, NULL) == 0) {
			json_t *me = json_object_get(json_object_get(rec, "Containers"), r->id);
			json_t *al = json_object_get(me, "Aliases");
			if (json_is_array(al))
				json_array_extend(aliases, al);
			if (json_is_object(json_object_get(me, "IPAMConfig"))) /* the address it asked for (--ip) */
				ipam = json_deep_copy(json_object_get(me, "IPAMConfig"));
			json_decref(rec);
		}
		char shortid[13];
		snprintf(shortid, sizeof(shortid), "%.12s", r->id);
		json_array_append_new(aliases, json_string(shortid));
		json_object_set_new(o, n->name,
				    json_pack("{s:o,s:n,s:o,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:i,s:s,s:n}", "IPAMConfig", ipam, "Links",
					      "Aliases", aliases, "NetworkID", n->id, "EndpointID", "", "Gateway",
					      up ? n->gateway : "", "IPAddress", up ? n->ip : "", "IPPrefixLen",
					      up ? n->prefix : 0, "IPv6Gateway", "", "GlobalIPv6Address", "",
					      "GlobalIPv6PrefixLen", 0, "MacAddress", up ? n->mac : "", "DriverOpts"));
	}
	free(vm);
	return o;
}

/* Docker shows live bindings (ps PORTS, NetworkSettings.Ports) only while the box runs */
static bool box_is_up(const struct bx_box_record *r)
{
	return bx_box_status_live(r->status);
}

json_t *bx_box_ps_json(const struct bx_box_record *r, json_t *labels, bool no_trunc, long long now)
{
	char status[128], created[64], running_for[80], cmd[600], labels_line[1024] = "";
	bx_box_status_line(r, now, status, sizeof(status));
	time_t sec = (time_t)(r->created_ns / 1000000000LL);
	struct tm tm;
	localtime_r(&sec, &tm);
	strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
	bx_human_duration(now - r->created_ns, running_for, sizeof(running_for));
	strncat(running_for, " ago", sizeof(running_for) - strlen(running_for) - 1);
	if (no_trunc || strlen(r->command) <= 20)
		snprintf(cmd, sizeof(cmd), "\"%s\"", r->command);
	else
		snprintf(cmd, sizeof(cmd), "\"%.19s…\"", r->command);
	labels_text(labels, labels_line, sizeof(labels_line));
	char id[65], ports_text[BX_MAX_PORTS * 64] = "";
	snprintf(id, sizeof(id), "%.*s", no_trunc ? 64 : 12, r->id);
	if (box_is_up(r)) {
		struct bx_port ports[BX_MAX_PORTS];
		bx_ports_display(ports, stored_ports(r, ports), ports_text, sizeof(ports_text));
	}
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ID", id, "Image", r->image, "Command", cmd,
			 "CreatedAt", created, "RunningFor", running_for, "Status", status, "State",
			 bx_box_status_docker(r->status), "Names", r->name, "Labels", labels_line, "Ports", ports_text);
}

json_t *bx_box_list_json(const struct bx_box_record *r, json_t *cfg, long long now)
{
	char status[128];
	bx_box_status_line(r, now, status, sizeof(status));
	json_t *ports = json_array();
	if (box_is_up(r)) {
		struct bx_port *pv = calloc(BX_MAX_PORTS, sizeof(*pv));
		int n = pv ? stored_ports(r, pv) : 0;
		for (int i = 0; i < n; i++)
			json_array_append_new(ports, json_pack("{s:s,s:i,s:i,s:s}", "IP", pv[i].host_ip[0] ? pv[i].host_ip : "0.0.0.0",
								"PrivatePort", pv[i].guest_port, "PublicPort", pv[i].host_port,
								"Type", pv[i].proto));
		free(pv);
	}
	json_t *labels = json_object_get(json_object_get(cfg, "Config"), "Labels");
	labels = json_is_object(labels) ? json_incref(labels) : json_object();
	json_t *host = json_object_get(cfg, "HostConfig");
	const char *mode = json_string_value(json_object_get(host, "NetworkMode"));
	return json_pack("{s:s,s:[s+],s:s,s:s,s:s,s:I,s:o,s:o,s:s,s:s,s:{s:s},s:{s:{}},s:[]}", "Id", r->id, "Names", "/",
			 r->name, "Image", r->image, "ImageID", r->image_id, "Command", r->command, "Created",
			 (json_int_t)(r->created_ns / 1000000000LL), "Ports", ports, "Labels", labels, "State", bx_box_status_docker(r->status), "Status",
			 status, "HostConfig", "NetworkMode", mode ? mode : "default", "NetworkSettings", "Networks", "Mounts");
}

json_t *bx_box_inspect_json(const struct bx_box_record *r)
{
	json_t *cfg = read_config(r);
	if (!cfg)
		cfg = json_object();
	char created[48], started[48], finished[48], logpath[PATH_MAX + 16], name[130];
	bx_time_rfc3339(r->created_ns, created, sizeof(created));
	bx_time_rfc3339(r->started_ns, started, sizeof(started));
	bx_time_rfc3339(r->finished_ns, finished, sizeof(finished));
	snprintf(logpath, sizeof(logpath), "%s/%s", r->box_dir, BX_LOG_NAME);
	snprintf(name, sizeof(name), "/%s", r->name);
	/* Docker: a paused container is Running and Paused; a starting one is
	 * neither yet (main does not run until the guest says so) */
	bool running = bx_box_status_live(r->status) && r->status != BX_BOX_STARTING;
	json_t *state = json_pack("{s:s,s:b,s:b,s:b,s:b,s:b,s:i,s:i,s:s,s:s,s:s}", "Status", bx_box_status_docker(r->status),
				  "Running", running, "Paused", r->status == BX_BOX_PAUSED, "Restarting", r->status == BX_BOX_RESTARTING,
				  "OOMKilled", r->oom_killed, "Dead", 0, "Pid", running ? r->shim_pid : 0, "ExitCode", r->exit_code,
				  "Error", r->error, "StartedAt", started, "FinishedAt", finished);
	/* Docker keeps the last health of a stopped box; none before a start with a check */
	struct bx_health *health = malloc(sizeof(*health));
	if (state && health && bx_health_read(r->box_dir, health, NULL) == 1) {
		if (!bx_box_status_live(r->status))
			bx_health_stopped(health); /* a shim that died could not say so itself */
		json_object_set_new(state, "Health", bx_health_json(health));
	}
	free(health);
	json_t *o = json_object();
	json_object_set_new(o, "Id", json_string(r->id));
	json_object_set_new(o, "Created", json_string(created));
	json_object_set(o, "Path", json_object_get(cfg, "Path") ? json_object_get(cfg, "Path") : json_string(""));
	json_object_set(o, "Args", json_object_get(cfg, "Args") ? json_object_get(cfg, "Args") : json_array());
	json_object_set_new(o, "State", state);
	json_object_set_new(o, "Image", json_string(r->image_id));
	json_object_set_new(o, "LogPath", json_string(logpath));
	json_object_set_new(o, "Name", json_string(name));
	json_object_set_new(o, "RestartCount", json_integer(r->restart_count));
	json_object_set_new(o, "Driver", json_string("virtiofs"));
	json_object_set_new(o, "Platform", json_string("linux"));
	struct bx_port ports[BX_MAX_PORTS];
	int nports = stored_ports(r, ports);
	json_t *hc = json_object_get(cfg, "HostConfig");
	hc = hc ? json_incref(hc) : json_object();
	json_object_set_new(hc, "PortBindings", bx_ports_json(ports, nports, false));
	json_object_set_new(o, "HostConfig", hc);
	json_t *mounts = json_object_get(cfg, "Mounts"); /* Docker: [] for a box without mounts */
	json_object_set_new(o, "Mounts", json_is_array(mounts) ? json_incref(mounts) : json_array());
	json_t *c = json_object_get(cfg, "Config");
	c = json_is_object(c) ? json_deep_copy(c) : json_object();
	bx_docker_config_defaults(c, json_object());
	json_object_set_new(o, "Config", c);
	json_object_set_new(o, "NetworkSettings",
			    json_pack("{s:o,s:o}", "Ports", box_is_up(r) ? bx_ports_json(ports, nports, true) : json_object(),
				      "Networks", networks_json(r, box_is_up(r))));
	json_decref(cfg);
	return o;
}

int bx_box_filter_add(struct bx_box_filters *f, const char *kv, struct bx_err *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return bx_fail(err, 0, "bad format of filter '%s' (expected name=value)", kv);
	size_t kl = (size_t)(eq - kv);
	const char *v = eq + 1;
	char ***dst = NULL;
	if (kl == 2 && !strncmp(kv, "id", 2))
		dst = &f->ids;
	else if (kl == 4 && !strncmp(kv, "name", 4)) {
		regex_t *nv = realloc(f->names, (f->nnames + 1) * sizeof(*nv));
		if (!nv)
			return bx_fail(err, ENOMEM, "out of memory");
		f->names = nv;
		if (regcomp(&f->names[f->nnames], v, REG_EXTENDED | REG_NOSUB) != 0)
			return bx_fail(err, 0, "invalid filter 'name=%s': not a valid regular expression", v);
		f->nnames++;
		return 0;
	}
	else if (kl == 5 && !strncmp(kv, "label", 5))
		dst = &f->labels;
	else if (kl == 6 && !strncmp(kv, "health", 6)) {
		if (strcmp(v, "none") && bx_health_status_parse(v) < 0)
			return bx_fail(err, 0, "Unrecognised filter value for health: %s", v);
		dst = &f->healths;
	}
	else if (kl == 6 && !strncmp(kv, "status", 6)) {
		static const char *const ok[] = {"created", "restarting", "running", "removing", "paused", "exited", "dead", NULL};
		bool valid = false;
		for (const char *const *s = ok; *s && !valid; s++)
			valid = !strcmp(*s, v);
		if (!valid)
			return bx_fail(err, 0,
				       "invalid filter 'status=%s': use created, restarting, running, removing, paused, exited or dead", v);
		dst = &f->statuses;
	} else {
		return bx_fail(err, 0, "invalid filter '%.*s': supported filters are id, name, label, status and health", (int)kl, kv);
	}
	return bx_strv_append(dst, v, err);
}

/* Docker matches a name filter as an unanchored regexp against the name
 * both with and without its leading "/" (so ^web$ and ^/web$ both work). */
static bool name_match(const char *name, const regex_t *re)
{
	char slashed[256];
	snprintf(slashed, sizeof(slashed), "/%s", name);
	return regexec(re, name, 0, NULL, 0) == 0 || regexec(re, slashed, 0, NULL, 0) == 0;
}

static bool label_match(json_t *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	char key[256];
	snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - want) : (int)strlen(want), want);
	json_t *v = json_object_get(labels, key);
	if (!v)
		return false;
	return !eq || (json_string_value(v) && !strcmp(json_string_value(v), eq + 1));
}

bool bx_box_filter_match(const struct bx_box_filters *f, const struct bx_box_record *r, json_t *labels)
{
	bool ok = !f->ids;
	for (char **v = f->ids; v && *v && !ok; v++)
		ok = !strncmp(r->id, *v, strlen(*v));
	if (!ok)
		return false;
	ok = !f->nnames;
	for (size_t i = 0; i < f->nnames && !ok; i++)
		ok = name_match(r->name, &f->names[i]);
	if (!ok)
		return false;
	for (char **v = f->labels; v && *v; v++) /* labels: every one must match */
		if (!label_match(labels, *v))
			return false;
	ok = !f->statuses;
	for (char **v = f->statuses; v && *v && !ok; v++)
		ok = !strcmp(*v, bx_box_status_docker(r->status));
	if (!ok)
		return false;
	/* Docker: the last health a box had ("none": never a check), stopped or not */
	int h = f->healths ? bx_health_status_read(r->box_dir) : -1;
	if (h >= 0 && !bx_box_status_live(r->status))
		h = BX_HEALTH_UNHEALTHY; /* stopped: Docker's "unhealthy", also when the shim died */
	ok = !f->healths;
	for (char **v = f->healths; v && *v && !ok; v++)
		ok = !strcmp(*v, h < 0 ? "none" : bx_health_status_name((enum bx_health_status)h));
	return ok;
}

void bx_box_filters_free(struct bx_box_filters *f)
{
	bx_strv_free(f->ids);
	for (size_t i = 0; i < f->nnames; i++)
		regfree(&f->names[i]);
	free(f->names);
	bx_strv_free(f->labels);
	bx_strv_free(f->statuses);
	bx_strv_free(f->healths);
	memset(f, 0, sizeof(*f));
}

json_t *bx_image_inspect_view(const struct bx_paths *p, const char *ref, struct bx_err *err)
{
	struct bx_image img = {0};
	void *o = NULL;
	if (bx_image_lookup(p, ref, &img, err) == 0 && bx_image_inspect_json(p, &img, &o, err) == 0)
		bx_docker_config_defaults(json_object_get(o, "Config"), json_null());
	bx_image_free(&img);
	return o;
}

json_t *bx_image_list_json(const struct bx_image *img)
{
	json_t *tags = json_array();
	for (char **n = img->names; n && *n; n++)
		json_array_append_new(tags, json_string(*n));
	if (!json_array_size(tags))
		json_array_append_new(tags, json_string("<none>:<none>"));
	return json_pack("{s:s,s:s,s:o,s:[],s:I,s:I,s:I,s:I,s:{},s:I}", "Id", img->id, "ParentId", "", "RepoTags", tags,
			 "RepoDigests", "Created", (json_int_t)img->created, "Size", (json_int_t)img->size, "VirtualSize",
			 (json_int_t)img->size, "SharedSize", (json_int_t)-1, "Labels", "Containers", (json_int_t)-1);
}
