/* /networks of the Engine API: list (filters name, id, label, driver, type,
 * scope), inspect, create, remove, connect, disconnect and prune, over the
 * store's named networks (store/networks.h) and box/netconnect.h, the same
 * ones `boxvm network` shows. boxvm's predefined modes, bridge (a box's own
 * way out, passt: NetworkMode default or bridge) and none, have no record:
 * they are shown here as Docker shows its predefined networks, and cannot
 * be removed or joined. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "filtermap.h"
#include "../box/netconnect.h"
#include "../image/image.h"
#include "../common/clock.h"
#include "../store/networks.h"

static const struct {
	const char *name, *id, *driver;
} predefined[] = {
	{"bridge", "e80f7985173d7a51772edce6bfaff45f77248647346f965b3aceb1592a927b28", "bridge"},
	{"none", "0f6959475ec22d3b15fe0a36e7b70c3136fe31292662548973f3aeabeeaff7d5", "null"},
};
#define NPREDEF (sizeof(predefined) / sizeof(predefined[0]))

/* the predefined network ref names (its name, "default" for bridge, or its ID or a prefix of 12+); -1 if none */
static int predefined_of(const char *ref)
{
	size_t len = strlen(ref);
	for (size_t i = 0; i < NPREDEF; i++)
		if (!strcmp(ref, predefined[i].name) || (!strcmp(ref, "default") && i == 0) ||
		    (len >= 12 && !strncmp(predefined[i].id, ref, len)))
			return (int)i;
	return -1;
}

static json_t *predefined_json(int i)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:{s:s,s:n,s:[]},s:b,s:b,s:b,s:{s:s},s:b,s:{},s:{},s:{}}", "Name",
			 predefined[i].name, "Id", predefined[i].id, "Created", "0001-01-01T00:00:00Z", "Scope", "local",
			 "Driver", predefined[i].driver, "EnableIPv6", 0, "IPAM", "Driver", "default", "Options", "Config",
			 "Internal", 0, "Attachable", 0, "Ingress", 0, "ConfigFrom", "Network", "", "ConfigOnly", 0,
			 "Containers", "Options", "Labels");
}

/* err of a store call about network ref, with Docker's words and status */
static enum MHD_Result net_fail(struct api_req *r, const char *ref, const struct bx_err *err)
{
	if (err->errnum == ENOENT && !strncmp(err->msg, "No such network", 15))
		return api_error(r, 404, "network %s not found", ref);
	if (err->errnum == EBUSY || err->errnum == EEXIST)
		return api_error(r, err->errnum == EEXIST && strstr(err->msg, "network with name") ? 409 : 403, "%s", err->msg);
	return api_fail(r, err);
}

static bool keep(const json_t *f, const json_t *o, bool builtin)
{
	const char *name = json_string_value(json_object_get(o, "Name")), *id = json_string_value(json_object_get(o, "Id"));
	size_t i;
	json_t *v;
	bool any = !api_filtermap_get(f, "name");
	json_array_foreach(json_object_get(f, "name"), i, v) any = any || strstr(name, json_string_value(v));
	if (!any)
		return false;
	any = !api_filtermap_get(f, "type");
	json_array_foreach(json_object_get(f, "type"), i, v) any = any || !strcmp(json_string_value(v), builtin ? "builtin" : "custom");
	return any && api_filtermap_any(f, "id", id, true) && api_filtermap_any(f, "driver", json_string_value(json_object_get(o, "Driver")), false) &&
	       api_filtermap_any(f, "scope", "local", false) && api_filtermap_labels(f, json_object_get(o, "Labels"));
}

static enum MHD_Result list(struct api_req *r)
{
	static const char *const keys[] = {"name", "id", "label", "driver", "type", "scope", "dangling", NULL};
	struct bx_err err = {0};
	json_t *f, *all;
	if (api_filtermap_parse(api_arg(r, "filters"), keys, &f, &err) < 0)
		return api_error(r, 400, "%s", err.msg);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(f, "type"), i, v) if (strcmp(json_string_value(v), "custom") &&
								  strcmp(json_string_value(v), "builtin")) {
		json_decref(f);
		return api_error(r, 400, "invalid filter: 'type'='%.100s'", json_string_value(v));
	}
	if (api_filtermap_get(f, "dangling")) {
		json_decref(f);
		return api_error(r, 400, "the dangling filter is not supported by boxvm's networks");
	}
	if (bx_network_list(&r->p, &all, &err) < 0) {
		json_decref(f);
		return api_fail(r, &err);
	}
	json_t *out = json_array();
	for (size_t k = 0; k < NPREDEF; k++) {
		json_t *o = predefined_json((int)k);
		if (keep(f, o, true))
			json_array_append(out, o);
		json_decref(o);
	}
	json_array_foreach(all, i, v) {
		json_t *o = bx_network_inspect_json(v);
		if (keep(f, o, false))
			json_array_append(out, o);
		json_decref(o);
	}
	json_decref(all);
	json_decref(f);
	return api_json(r, 200, out);
}

/* every key of o that is set must be one of keys */
static bool only(const json_t *o, const char *const *keys, const char **bad)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		bool known = false;
		for (const char *const *key = keys; *key; key++)
			known = known || !strcmp(*key, k);
		/* Docker's unset: what the docker CLI sends for a field not given (IPPrefixLen 0, "", {}) */
		bool unset = json_is_null(v) || json_is_false(v) || (json_is_string(v) && !json_string_length(v)) ||
			     (json_is_integer(v) && !json_integer_value(v)) || (json_is_object(v) && !json_object_size(v)) ||
			     (json_is_array(v) && !json_array_size(v));
		if (!known && !unset) {
			*bad = k;
			return false;
		}
	}
	return true;
}

static json_t *body_object(struct api_req *r, enum MHD_Result *reply)
{
	json_error_t jerr;
	json_t *body = json_loadb(r->body ? r->body : "", r->body_len, 0, &jerr);
	if (!json_is_object(body)) {
		json_decref(body);
		*reply = api_error(r, 400, "invalid JSON in the request body: %s", body ? "not an object" : jerr.text);
		return NULL;
	}
	return body;
}

static enum MHD_Result create(struct api_req *r)
{
	/* CheckDuplicate: boxvm always refuses a second network of a name; Attachable: every network is */
	static const char *const keys[] = {"Name", "CheckDuplicate", "Driver", "Internal", "Attachable", "IPAM", "Labels", NULL};
	static const char *const ipam_keys[] = {"Driver", "Config", NULL};
	static const char *const conf_keys[] = {"Subnet", "Gateway", NULL};
	struct bx_err err = {0};
	enum MHD_Result ret;
	json_t *body = body_object(r, &ret);
	if (!body)
		return ret;
	const char *bad = NULL;
	json_t *ipam = json_object_get(body, "IPAM"), *conf = json_object_get(ipam, "Config"), *c0 = NULL;
	const char *name = json_string_value(json_object_get(body, "Name"));
	const char *driver = json_string_value(json_object_get(body, "Driver"));
	const char *idrv = json_string_value(json_object_get(ipam, "Driver"));
	json_t *labels = json_object_get(body, "Labels");
	if (!only(body, keys, &bad) || (json_is_object(ipam) && !only(ipam, ipam_keys, &bad))) {
		ret = api_error(r, 400, "%.100s is not supported by boxvm's networks; leave it unset", bad);
		goto out;
	}
	if (!name || !*name) {
		ret = api_error(r, 400, "Name is required: the network's name");
		goto out;
	}
	if (predefined_of(name) >= 0 || !strcmp(name, "host")) {
		ret = api_error(r, 403, "operation is not permitted on predefined %.100s network ", name);
		goto out;
	}
	if (bx_network_name_check(name, &err) < 0) {
		ret = api_error(r, 400, "%s", err.msg);
		goto out;
	}
	if (driver && *driver && strcmp(driver, "bridge")) {
		ret = api_error(r, 404, "plugin \"%.100s\" not found: boxvm has the bridge driver only", driver);
		goto out;
	}
	if (idrv && *idrv && strcmp(idrv, "default")) {
		ret = api_error(r, 400, "IPAM.Driver %.100s is not supported: boxvm has the default IPAM driver only", idrv);
		goto out;
	}
	if (conf && !json_is_null(conf) && (!json_is_array(conf) || json_array_size(conf) > 1)) {
		ret = api_error(r, 400, "IPAM.Config: boxvm's networks have one IPv4 subnet; give at most one");
		goto out;
	}
	c0 = json_array_get(conf, 0);
	if (c0 && (!json_is_object(c0) || !only(c0, conf_keys, &bad))) {
		ret = api_error(r, 400, "IPAM.Config[0].%.100s is not supported by boxvm's networks; leave it unset",
				bad ? bad : "");
		goto out;
	}
	if (labels && !json_is_null(labels)) {
		bool ok = json_is_object(labels);
		const char *k;
		json_t *v;
		json_object_foreach(labels, k, v) ok = ok && json_is_string(v) && *k;
		if (!ok) {
			ret = api_error(r, 400, "Labels must be an object of strings");
			goto out;
		}
	}
	const char *subnet = json_string_value(json_object_get(c0, "Subnet")), *gw = json_string_value(json_object_get(c0, "Gateway"));
	char id[65];
	if (bx_network_create(&r->p, name, subnet && *subnet ? subnet : NULL, gw && *gw ? gw : NULL,
			      json_is_true(json_object_get(body, "Internal")), json_is_object(labels) ? labels : NULL, id, &err) < 0)
		/* a name taken: 409; a bad or overlapping subnet or gateway (no errno): 400 */
		ret = err.errnum == 0 ? api_error(r, 400, "%s", err.msg) : net_fail(r, name, &err);
	else
		ret = api_json(r, 201, json_pack("{s:s,s:s}", "Id", id, "Warning", ""));
out:
	json_decref(body);
	return ret;
}

/* Container of the body: a box name or ID */
static const char *container_of(json_t *body)
{
	const char *c = json_string_value(json_object_get(body, "Container"));
	return c && *c && strlen(c) < 256 ? c : NULL;
}

static enum MHD_Result connect_box(struct api_req *r, const char *net)
{
	static const char *const keys[] = {"Container", "EndpointConfig", NULL};
	static const char *const ep_keys[] = {"Aliases", "IPAMConfig", NULL};
	static const char *const ipam_keys[] = {"IPv4Address", NULL};
	struct bx_err err = {0};
	enum MHD_Result ret;
	json_t *body = body_object(r, &ret);
	if (!body)
		return ret;
	json_t *ep = json_object_get(body, "EndpointConfig"), *ipam = json_object_get(ep, "IPAMConfig");
	const char *box = container_of(body), *bad = NULL;
	char **aliases = NULL;
	if (!only(body, keys, &bad) || (json_is_object(ep) && !only(ep, ep_keys, &bad)) ||
	    (json_is_object(ipam) && !only(ipam, ipam_keys, &bad))) {
		ret = api_error(r, 400, "%.100s is not supported by boxvm's networks; leave it unset", bad);
		goto out;
	}
	if (!box) {
		ret = api_error(r, 400, "Container is required: the box to connect");
		goto out;
	}
	if (predefined_of(net) >= 0) {
		ret = api_error(r, 400, "boxvm's predefined network %s is chosen at create (NetworkMode), not joined "
					"by connect", net);
		goto out;
	}
	size_t i;
	json_t *v;
	json_t *al = json_object_get(ep, "Aliases");
	if (al && !json_is_null(al) && !json_is_array(al)) {
		ret = api_error(r, 400, "EndpointConfig.Aliases must be an array of strings");
		goto out;
	}
	json_array_foreach(al, i, v) {
		if (!json_is_string(v)) {
			ret = api_error(r, 400, "EndpointConfig.Aliases must be an array of strings");
			goto out;
		}
		if (bx_strv_append(&aliases, json_string_value(v), &err) < 0) {
			ret = api_fail(r, &err);
			goto out;
		}
	}
	const char *ip = json_string_value(json_object_get(ipam, "IPv4Address"));
	char warn[1400];
	if (bx_box_net_connect(&r->p, net, box, aliases, ip && *ip ? ip : NULL, warn, sizeof(warn), &err) < 0)
		ret = err.errnum == 0 ? api_error(r, 400, "%s", err.msg) : net_fail(r, net, &err);
	else
		ret = api_empty(r, 200);
out:
	bx_strv_free(aliases);
	json_decref(body);
	return ret;
}

static enum MHD_Result disconnect_box(struct api_req *r, const char *net)
{
	/* Force: boxvm disconnects a box whether it runs or not */
	static const char *const keys[] = {"Container", "Force", NULL};
	struct bx_err err = {0};
	enum MHD_Result ret;
	json_t *body = body_object(r, &ret);
	if (!body)
		return ret;
	const char *box = container_of(body), *bad = NULL;
	char warn[1400];
	if (!only(body, keys, &bad))
		ret = api_error(r, 400, "%.100s is not supported by boxvm's networks; leave it unset", bad);
	else if (!box)
		ret = api_error(r, 400, "Container is required: the box to disconnect");
	else if (predefined_of(net) >= 0)
		ret = api_error(r, 400, "a box cannot leave boxvm's predefined network %s", net);
	else if (bx_box_net_disconnect(&r->p, net, box, warn, sizeof(warn), &err) < 0)
		ret = err.errnum == 0 ? api_error(r, 400, "%s", err.msg) : net_fail(r, net, &err);
	else
		ret = api_empty(r, 200);
	json_decref(body);
	return ret;
}

struct pruned {
	struct bx_prune_filter filter;
	json_t *deleted;
	bool failed;
	struct bx_err err;
};

static bool prune_pick(void *ctx, json_t *rec)
{
	return bx_prune_pick_network(&((struct pruned *)ctx)->filter, rec);
}

static void prune_removed(void *ctx, const char *name)
{
	json_array_append_new(((struct pruned *)ctx)->deleted, json_string(name));
}

static void prune_failed(void *ctx, struct bx_err *err)
{
	struct pruned *pr = ctx;
	if (!pr->failed)
		pr->err = *err;
	pr->failed = true;
}

static enum MHD_Result prune(struct api_req *r)
{
	static const char *const keys[] = {"until", "label", "label!", NULL};
	struct pruned pr = {0};
	if (api_prune_filter(api_arg(r, "filters"), keys, BX_PRUNE_UNTIL | BX_PRUNE_LABEL, &pr.filter, &pr.err) < 0)
		return api_error(r, 400, "%s", pr.err.msg);
	pr.deleted = json_array();
	const struct bx_network_prune_cb cb = {prune_pick, prune_removed, prune_failed, &pr};
	bx_network_prune(&r->p, &cb);
	bx_prune_filter_free(&pr.filter);
	if (pr.failed) {
		json_decref(pr.deleted);
		return api_fail(r, &pr.err);
	}
	return api_json(r, 200, json_pack("{s:o}", "NetworksDeleted", pr.deleted));
}

enum MHD_Result api_networks(struct api_req *r, const char *id, const char *action)
{
	const char *m = r->method;
	bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
	struct bx_err err = {0};
	if (!id)
		return get ? list(r) : api_error(r, 404, "page not found");
	if (!*action && post && !strcmp(id, "create"))
		return create(r);
	if (!*action && post && !strcmp(id, "prune"))
		return prune(r);
	if (!strcmp(action, "connect") && post)
		return connect_box(r, id);
	if (!strcmp(action, "disconnect") && post)
		return disconnect_box(r, id);
	if (*action || !(get || !strcmp(m, "DELETE")))
		return api_error(r, 404, "page not found");
	int pre = predefined_of(id);
	if (get) {
		json_t *rec;
		if (pre >= 0)
			return api_json(r, 200, predefined_json(pre));
		if (bx_network_get(&r->p, id, &rec, &err) < 0)
			return net_fail(r, id, &err);
		json_t *o = bx_network_inspect_json(rec);
		json_decref(rec);
		return api_json(r, 200, o);
	}
	if (pre >= 0)
		return api_error(r, 403, "%s is a pre-defined network and cannot be removed", predefined[pre].name);
	if (bx_network_remove(&r->p, id, &err) < 0)
		return net_fail(r, id, &err);
	return api_empty(r, 204);
}
