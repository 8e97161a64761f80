/* Named networks' records and their address assignment (networks.h). */
#include "networks.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/boxid.h"
#include "../vm/netcidr.h"
#include "events.h"
#include "state.h"

/* A message of our own (no strerror appended) whose errnum still says what it was. */
static int tagged(struct bx_err *err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int tagged(struct bx_err *err, int errnum, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bx_fail(err, 0, "%s", msg);
	if (err)
		err->errnum = errnum;
	return -1;
}

int bx_networks_dir(const struct bx_paths *p, char *out, size_t size, struct bx_err *err)
{
	if (bx_path_join(out, size, err, "%s/networks", p->data) < 0)
		return -1;
	return bx_mkdir_p(out, 0700, err);
}

int bx_network_name_check(const char *name, struct bx_err *err)
{
	size_t n = strlen(name);
	bool ok = n >= 1 && n < 128;
	for (size_t i = 0; ok && i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		ok = alnum || (i > 0 && (c == '_' || c == '.' || c == '-'));
	}
	if (!ok)
		return bx_fail(err, 0, "invalid network name \"%s\": use 1 to 127 of [a-zA-Z0-9_.-], starting with a "
				       "letter or digit", name);
	if (!strcmp(name, "default") || !strcmp(name, "bridge") || !strcmp(name, "none") || !strcmp(name, "host"))
		return bx_fail(err, 0, "operation is not permitted on predefined %s network ", name);
	return 0;
}

static int lock_networks(const struct bx_paths *p, struct bx_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	if (bx_networks_dir(p, dir, sizeof(dir), err) < 0 ||
	    bx_path_join(path, sizeof(path), err, "%s/.lock", dir) < 0)
		return -1;
	return bx_lock_file(path, LOCK_EX, err);
}

static int record_path(const struct bx_paths *p, const char *id, char *out, size_t size, struct bx_err *err)
{
	char dir[PATH_MAX];
	if (bx_networks_dir(p, dir, sizeof(dir), err) < 0)
		return -1;
	return bx_path_join(out, size, err, "%s/%s.json", dir, id);
}

static int save(const struct bx_paths *p, json_t *rec, struct bx_err *err)
{
	char path[PATH_MAX];
	if (record_path(p, json_string_value(json_object_get(rec, "Id")), path, sizeof(path), err) < 0)
		return -1;
	char *text = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return bx_fail(err, ENOMEM, "out of memory");
	int rc = bx_write_file_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return rc;
}

/* A record as the store expects it (the daemon and the CLI trust only these). */
static bool record_valid(json_t *r)
{
	struct bx_cidr c;
	uint32_t gw;
	const char *id = json_string_value(json_object_get(r, "Id"));
	const char *name = json_string_value(json_object_get(r, "Name"));
	const char *subnet = json_string_value(json_object_get(r, "Subnet"));
	const char *gateway = json_string_value(json_object_get(r, "Gateway"));
	return json_is_object(r) && id && bx_boxid_valid(id) && name && bx_network_name_check(name, NULL) == 0 &&
	       subnet && bx_cidr_parse(subnet, &c, NULL) == 0 && gateway && bx_ip_parse(gateway, &gw) == 0 &&
	       json_is_object(json_object_get(r, "Containers"));
}

/* Every valid record (an array, in directory order). */
static int load_all(const struct bx_paths *p, json_t **out, struct bx_err *err)
{
	char dir[PATH_MAX];
	if (bx_networks_dir(p, dir, sizeof(dir), err) < 0)
		return -1;
	DIR *d = opendir(dir);
	if (!d)
		return bx_fail(err, errno, "cannot list %s", dir);
	json_t *arr = json_array();
	struct dirent *e;
	while (arr && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n != BX_ID_LEN + 5 || strcmp(e->d_name + BX_ID_LEN, ".json"))
			continue;
		char path[PATH_MAX];
		if (bx_path_join(path, sizeof(path), NULL, "%s/%s", dir, e->d_name) < 0)
			continue;
		json_t *r = json_load_file(path, 0, NULL);
		if (r && record_valid(r) && json_array_size(arr) < BX_NETWORKS_MAX)
			json_array_append(arr, r);
		json_decref(r);
	}
	closedir(d);
	if (!arr)
		return bx_fail(err, ENOMEM, "out of memory");
	*out = arr;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	return strcmp(json_string_value(json_object_get(*x, "Name")), json_string_value(json_object_get(*y, "Name")));
}

int bx_network_list(const struct bx_paths *p, json_t **out, struct bx_err *err)
{
	json_t *all;
	if (load_all(p, &all, err) < 0)
		return -1;
	size_t n = json_array_size(all);
	json_t **v = calloc(n + 1, sizeof(*v));
	json_t *sorted = json_array();
	if (!v || !sorted) {
		free(v);
		json_decref(sorted);
		json_decref(all);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(all, i);
	qsort(v, n, sizeof(*v), by_name);
	for (size_t i = 0; i < n; i++)
		json_array_append(sorted, v[i]);
	free(v);
	json_decref(all);
	*out = sorted;
	return 0;
}

/* Docker's lookup order: an exact name, a full ID, then a unique ID prefix. */
static json_t *find(json_t *all, const char *ref, struct bx_err *err)
{
	size_t i, len = strlen(ref);
	json_t *r, *hit = NULL;
	int prefix_hits = 0;
	json_array_foreach(all, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "Name")), ref))
			return r;
	json_array_foreach(all, i, r) {
		const char *id = json_string_value(json_object_get(r, "Id"));
		if (!strcmp(id, ref))
			return r;
		if (len && !strncmp(id, ref, len)) {
			hit = r;
			prefix_hits++;
		}
	}
	if (prefix_hits == 1)
		return hit;
	if (prefix_hits > 1) {
		bx_fail(err, 0, "network %s is ambiguous (%d matches found)", ref, prefix_hits);
		return NULL;
	}
	tagged(err, ENOENT, "No such network: %s", ref);
	return NULL;
}

/* The networks locked and loaded, and the one ref names: NULL with err
 * filled if there is none; *lock (-1 if not taken) and *all are the
 * caller's to release either way. */
static json_t *lock_and_find(const struct bx_paths *p, const char *ref, int *lock, json_t **all, struct bx_err *err)
{
	*all = NULL;
	if ((*lock = lock_networks(p, err)) < 0 || load_all(p, all, err) < 0)
		return NULL;
	return find(*all, ref, err);
}

int bx_network_get(const struct bx_paths *p, const char *ref, json_t **out, struct bx_err *err)
{
	json_t *all;
	if (load_all(p, &all, err) < 0)
		return -1;
	json_t *r = find(all, ref, err);
	if (r)
		*out = json_incref(r);
	json_decref(all);
	return r ? 0 : -1;
}

static void rfc3339_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

/* The subnet of a record (valid: record_valid). */
static struct bx_cidr subnet_of(json_t *r)
{
	struct bx_cidr c = {0};
	bx_cidr_parse(json_string_value(json_object_get(r, "Subnet")), &c, NULL);
	return c;
}

static bool overlaps_any(json_t *all, const struct bx_cidr *c)
{
	size_t i;
	json_t *r;
	json_array_foreach(all, i, r) {
		struct bx_cidr o = subnet_of(r);
		if (bx_cidr_overlap(&o, c))
			return true;
	}
	/* the fixed plan of every box's own passt NIC (netspec.h) */
	struct bx_cidr passt = {(10u << 24) | (2u << 8), 24};
	return bx_cidr_overlap(&passt, c);
}

/* Docker's network events: the network's ID, its name and driver (and the box for connect/disconnect) */
static void network_event(const struct bx_paths *p, const char *action, const json_t *rec, const char *box_id)
{
	const char *attrs[] = {"name", json_string_value(json_object_get(rec, "Name")), "type", "bridge",
			       box_id ? "container" : NULL, box_id, NULL};
	bx_event_emit(p->data, "network", action, json_string_value(json_object_get(rec, "Id")), attrs, NULL);
}

int bx_network_create(const struct bx_paths *p, const char *name, const char *subnet, const char *gateway,
		      bool internal, json_t *labels, char id[65], struct bx_err *err)
{
	if (bx_network_name_check(name, err) < 0)
		return -1;
	struct bx_cidr c;
	uint32_t gw = 0;
	if (subnet && bx_cidr_parse(subnet, &c, err) < 0)
		return -1;
	if (gateway && !subnet)
		return bx_fail(err, 0, "every ip-range or gateway must have a corresponding subnet");
	if (gateway && (bx_ip_parse(gateway, &gw) < 0 || !bx_cidr_contains(&c, gw)))
		return bx_fail(err, 0, "no matching subnet for gateway %s", gateway);
	int lock = lock_networks(p, err);
	if (lock < 0)
		return -1;
	json_t *all = NULL, *rec = NULL;
	int rc = -1;
	if (load_all(p, &all, err) < 0)
		goto out;
	size_t i;
	json_t *r;
	json_array_foreach(all, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "Name")), name)) {
			tagged(err, EEXIST, "network with name %s already exists", name);
			goto out;
		}
	if (json_array_size(all) >= BX_NETWORKS_MAX) {
		bx_fail(err, 0, "boxvm keeps at most %d networks: remove one first (boxvm network prune)", BX_NETWORKS_MAX);
		goto out;
	}
	if (subnet) {
		if (overlaps_any(all, &c)) {
			bx_fail(err, 0, "Pool overlaps with other one on this address space");
			goto out;
		}
	} else {
		int k = 0;
		while (bx_cidr_default_pool(k, &c) == 0 && overlaps_any(all, &c))
			k++;
		if (bx_cidr_default_pool(k, &c) < 0) {
			bx_fail(err, 0, "could not find an available, non-overlapping IPv4 address pool among the defaults "
					"to assign to the network (give one with --subnet)");
			goto out;
		}
	}
	if (!gw)
		gw = bx_cidr_first_host(&c);
	char sub[24], gws[16], when[48];
	bx_cidr_format(&c, sub, sizeof(sub));
	bx_ip_format(gw, gws, sizeof(gws));
	rfc3339_now(when, sizeof(when));
	if (bx_boxid_new(id, err) < 0)
		goto out;
	json_t *lab = labels ? json_deep_copy(labels) : json_object();
	/* UserSubnet: Docker lets a box ask for its address (--ip) only on a subnet the user chose */
	rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:o,s:{},s:b}", "Name", name, "Id", id, "Created", when, "Subnet", sub,
			"Gateway", gws, "Internal", internal, "Labels", lab, "Containers", "UserSubnet", subnet != NULL);
	if (!rec) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	rc = save(p, rec, err);
	if (rc == 0)
		network_event(p, "create", rec, NULL);
out:
	json_decref(rec);
	json_decref(all);
	close(lock);
	return rc;
}

static void drop_stale(const struct bx_paths *p, json_t *rec, bool *changed);

int bx_network_remove(const struct bx_paths *p, const char *ref, struct bx_err *err)
{
	int lock, rc = -1;
	json_t *all = NULL;
	json_t *r = lock_and_find(p, ref, &lock, &all, err);
	if (!r)
		goto out;
	const char *id = json_string_value(json_object_get(r, "Id"));
	bool stale = false;
	drop_stale(p, r, &stale);
	if (json_object_size(json_object_get(r, "Containers"))) {
		tagged(err, EBUSY, "error while removing network: network %s id %s has active endpoints",
			json_string_value(json_object_get(r, "Name")), id);
		goto out;
	}
	/* the daemon first: a record without one is harmless, a daemon without a record is a leak */
	bx_netd_stop(p, id);
	char path[PATH_MAX];
	if (record_path(p, id, path, sizeof(path), err) < 0)
		goto out;
	if (unlink(path) < 0) {
		bx_fail(err, errno, "cannot remove %s", path);
		goto out;
	}
	network_event(p, "destroy", r, NULL);
	rc = 0;
out:
	json_decref(all);
	if (lock >= 0)
		close(lock);
	return rc;
}

/* A member whose box directory is gone (a create that died half-way, a
 * removal that crashed) gives its address back: IPAM heals itself. */
static void drop_stale(const struct bx_paths *p, json_t *rec, bool *changed)
{
	json_t *members = json_object_get(rec, "Containers");
	const char *bid;
	json_t *m, *tmp;
	json_object_foreach_safe(members, tmp, bid, m) {
		char dir[PATH_MAX];
		struct stat st;
		if (bx_state_box_dir(p, bid, dir, sizeof(dir), NULL) == 0 && stat(dir, &st) < 0 && errno == ENOENT) {
			json_object_del(members, bid);
			*changed = true;
		}
	}
}

int bx_network_attach(const struct bx_paths *p, const char *ref, const char *box_id, const char *box_name,
		      char *const *aliases, const char *want_ip, struct bx_vm_net *out, struct bx_err *err)
{
	int lock, rc = -1;
	json_t *all = NULL;
	uint32_t *used = NULL;
	json_t *r = lock_and_find(p, ref, &lock, &all, err);
	if (!r)
		goto out;
	const char *net_name = json_string_value(json_object_get(r, "Name"));
	json_t *members = json_object_get(r, "Containers");
	bool changed = false;
	drop_stale(p, r, &changed);
	if (json_object_get(members, box_id)) {
		tagged(err, EEXIST, "endpoint with name %s already exists in network %s", box_name, net_name);
		goto out;
	}
	if (json_object_size(members) >= BX_NET_MEMBERS_MAX) {
		bx_fail(err, 0, "network %s has %d boxes, the most boxvm puts on one network", net_name, BX_NET_MEMBERS_MAX);
		goto out;
	}
	struct bx_cidr c = subnet_of(r);
	uint32_t gw = 0, ip;
	bx_ip_parse(json_string_value(json_object_get(r, "Gateway")), &gw);
	used = calloc(json_object_size(members) + 1, sizeof(*used));
	if (!used) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	size_t nused = 0;
	const char *bid;
	json_t *m;
	json_object_foreach(members, bid, m) {
		char addr[24];
		const char *a = json_string_value(json_object_get(m, "IPv4Address"));
		if (a && snprintf(addr, sizeof(addr), "%s", a) < (int)sizeof(addr)) {
			addr[strcspn(addr, "/")] = '\0';
			if (bx_ip_parse(addr, &used[nused]) == 0)
				nused++;
		}
	}
	if (want_ip) { /* Docker's checks and messages */
		if (!json_is_true(json_object_get(r, "UserSubnet"))) {
			bx_fail(err, 0, "user specified IP address is supported only when connecting to networks with user "
					"configured subnets");
			goto out;
		}
		if (bx_ip_parse(want_ip, &ip) < 0) {
			bx_fail(err, 0, "invalid IPv4 address: %s", want_ip);
			goto out;
		}
		/* the subnet's own address and its broadcast address are no box's (prefix <= 30) */
		if (!bx_cidr_contains(&c, ip) || ip == c.addr || ip == (c.addr | (0xffffffffu >> c.prefix))) {
			bx_fail(err, 0, "Invalid address %s: It does not belong to any of this network's subnets", want_ip);
			goto out;
		}
		for (size_t i = 0; i < nused && ip != gw; i++)
			if (used[i] == ip)
				ip = gw;
		if (ip == gw) {
			bx_fail(err, 0, "Address already in use");
			goto out;
		}
	} else if (bx_ipam_pick(&c, gw, used, nused, &ip) < 0) {
		bx_fail(err, 0, "no available IPv4 addresses on network %s (subnet %s)", net_name,
			json_string_value(json_object_get(r, "Subnet")));
		goto out;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", json_string_value(json_object_get(r, "Id")));
	snprintf(out->name, sizeof(out->name), "%s", net_name);
	bx_ip_format(ip, out->ip, sizeof(out->ip));
	bx_ip_format(gw, out->gateway, sizeof(out->gateway));
	out->prefix = c.prefix;
	bx_mac_from_ip(ip, out->mac, sizeof(out->mac));
	out->internal = json_is_true(json_object_get(r, "Internal"));
	char cidr[24];
	snprintf(cidr, sizeof(cidr), "%s/%d", out->ip, out->prefix);
	json_t *al = json_array();
	for (int i = 0; aliases && aliases[i] && i < BX_NET_ALIASES_MAX; i++)
		json_array_append_new(al, json_string(aliases[i]));
	json_t *member = json_pack("{s:s,s:s,s:s,s:o}", "Name", box_name, "IPv4Address", cidr, "MacAddress", out->mac,
				   "Aliases", al);
	if (member && want_ip) /* inspect's IPAMConfig */
		json_object_set_new(member, "IPAMConfig", json_pack("{s:s}", "IPv4Address", out->ip));
	json_object_set_new(members, box_id, member);
	rc = save(p, r, err);
	if (rc == 0)
		network_event(p, "connect", r, box_id);
out:
	free(used);
	json_decref(all);
	if (lock >= 0)
		close(lock);
	if (rc == 0)
		bx_networks_changed(p); /* its peers resolve it (once it runs) */
	return rc;
}

int bx_network_detach(const struct bx_paths *p, const char *ref, const char *box_id, struct bx_err *err)
{
	int lock, rc = -1;
	json_t *all = NULL;
	json_t *r = lock_and_find(p, ref, &lock, &all, err);
	if (!r)
		goto out;
	json_t *members = json_object_get(r, "Containers");
	if (!json_object_get(members, box_id)) {
		tagged(err, ENOENT, "container %s is not connected to network %s", box_id,
			json_string_value(json_object_get(r, "Name")));
		goto out;
	}
	json_object_del(members, box_id);
	rc = save(p, r, err);
	if (rc == 0)
		network_event(p, "disconnect", r, box_id);
out:
	json_decref(all);
	if (lock >= 0)
		close(lock);
	if (rc == 0)
		bx_networks_changed(p);
	return rc;
}

/* fn on every record holding box_id; saved when fn says so */
static void each_membership(const struct bx_paths *p, const char *box_id, bool (*fn)(json_t *m, json_t *members,
										     const char *id, const void *ctx),
			    const void *ctx)
{
	int lock = lock_networks(p, NULL);
	if (lock < 0)
		return;
	json_t *all = NULL;
	bool changed = false;
	if (load_all(p, &all, NULL) == 0) {
		size_t i;
		json_t *r;
		json_array_foreach(all, i, r) {
			json_t *members = json_object_get(r, "Containers"), *m = json_object_get(members, box_id);
			if (m && fn(m, members, box_id, ctx) && save(p, r, NULL) == 0)
				changed = true;
		}
	}
	json_decref(all);
	close(lock);
	if (changed)
		bx_networks_changed(p);
}

static bool drop_member(json_t *m, json_t *members, const char *id, const void *ctx)
{
	return json_object_del(members, id) == 0;
}

static bool rename_member(json_t *m, json_t *members, const char *id, const void *ctx)
{
	return json_object_set_new(m, "Name", json_string(ctx)) == 0;
}

void bx_networks_release_box(const struct bx_paths *p, const char *box_id)
{
	each_membership(p, box_id, drop_member, NULL);
}

void bx_networks_rename_box(const struct bx_paths *p, const char *box_id, const char *name)
{
	each_membership(p, box_id, rename_member, name);
}

void bx_networks_changed(const struct bx_paths *p)
{
	char path[PATH_MAX];
	struct stat st;
	json_t *all = NULL;
	/* no networks directory: no network, nothing to tell */
	if (bx_path_join(path, sizeof(path), NULL, "%s/networks", p->data) < 0 || stat(path, &st) < 0 ||
	    load_all(p, &all, NULL) < 0)
		return;
	size_t i;
	json_t *r;
	json_array_foreach(all, i, r)
		bx_netd_sync(p, json_string_value(json_object_get(r, "Id")));
	json_decref(all);
}

json_t *bx_network_inspect_json(json_t *r)
{
	json_t *containers = json_object();
	const char *bid;
	json_t *m;
	json_object_foreach(json_object_get(r, "Containers"), bid, m)
		json_object_set_new(containers, bid,
				    json_pack("{s:O,s:s,s:O,s:O,s:s}", "Name", json_object_get(m, "Name"), "EndpointID", "",
					      "MacAddress", json_object_get(m, "MacAddress"), "IPv4Address",
					      json_object_get(m, "IPv4Address"), "IPv6Address", ""));
	json_t *labels = json_object_get(r, "Labels");
	return json_pack("{s:O,s:O,s:O,s:s,s:s,s:b,s:{s:s,s:{},s:[{s:O,s:O}]},s:O,s:b,s:b,s:{s:s},s:b,s:o,s:{},s:O}",
			 "Name", json_object_get(r, "Name"), "Id", json_object_get(r, "Id"), "Created",
			 json_object_get(r, "Created"), "Scope", "local", "Driver", "bridge", "EnableIPv6", 0, "IPAM",
			 "Driver", "default", "Options", "Config", "Subnet", json_object_get(r, "Subnet"), "Gateway",
			 json_object_get(r, "Gateway"), "Internal", json_object_get(r, "Internal"), "Attachable", 0,
			 "Ingress", 0, "ConfigFrom", "Network", "", "ConfigOnly", 0, "Containers", containers, "Options",
			 "Labels", json_is_object(labels) ? labels : json_object());
}

void bx_network_prune(const struct bx_paths *p, const struct bx_network_prune_cb *cb)
{
	struct bx_err err = {0};
	json_t *all;
	if (bx_network_list(p, &all, &err) < 0) {
		cb->failed(cb->ctx, &err);
		return;
	}
	size_t i;
	json_t *r;
	json_array_foreach(all, i, r) {
		if (cb->pick && !cb->pick(cb->ctx, r))
			continue;
		/* one a box uses stays (the removal checks under the networks' lock) */
		if (bx_network_remove(p, json_string_value(json_object_get(r, "Id")), &err) < 0) {
			if (err.errnum != EBUSY && err.errnum != ENOENT)
				cb->failed(cb->ctx, &err);
			continue;
		}
		cb->removed(cb->ctx, json_string_value(json_object_get(r, "Name")));
	}
	json_decref(all);
}
