/* /containers/... of the Engine API: create, list, inspect, start, stop,
 * kill, remove (wait and logs: stream.c). Each calls the box library as the
 * CLI's command of the same name does. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "createmap.h"
#include "filters.h"
#include "../box/box_view.h"
#include "../box/control.h"
#include "../box/make.h"
#include "../box/remove.h"
#include "../client/shim_client.h"
#include "../common/clock.h"
#include "../store/boxconfig.h"
#include "../store/state.h"

/* the service's environment is not the client's: a bare Env NAME stays bare */
static const char *no_env(const char *name)
{
	return NULL;
}

/* the box ref names; a reply (404 with Docker's words) when there is none */
static bool lookup(struct api_req *r, const char *ref, struct bx_box_record *rec, enum MHD_Result *reply)
{
	struct bx_err err = {0};
	if (bx_state_lookup(&r->p, ref, rec, &err) == 0)
		return true;
	*reply = err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", ref) : api_fail(r, &err);
	return false;
}

static enum MHD_Result create(struct api_req *r)
{
	struct bx_err err = {0};
	json_error_t jerr;
	json_t *body = json_loadb(r->body ? r->body : "", r->body_len, 0, &jerr);
	if (!body)
		return api_error(r, 400, "invalid JSON in the request body: %s", jerr.text);
	struct api_create *c = calloc(1, sizeof(*c)); /* large: not on the stack */
	if (!c) {
		json_decref(body);
		return api_error(r, 500, "out of memory");
	}
	enum MHD_Result ret;
	int rc = api_create_parse(body, api_arg(r, "name"), c, &err);
	json_decref(body);
	/* what Docker's client and daemon check before anything is made: bad parameters (400) */
	if (rc < 0 || (c->lc.name && bx_name_check(c->lc.name, &err) < 0) || bx_run_opts_check(&c->ro, no_env, &err) < 0 ||
	    bx_netmount_check(&c->nm, &err) < 0 || bx_healthopts_check(&c->health, &err) < 0 ||
	    bx_secopts_check(&c->sec, &err) < 0) {
		ret = api_error(r, 400, "%s", err.msg);
		goto out;
	}
	struct bx_image img;
	if (bx_image_lookup(&r->p, c->image, &img, &err) < 0) {
		/* the docker CLI pulls on a 404 and creates again */
		ret = err.errnum == ENOENT ? api_error(r, 404, "No such image: %s", c->image) : api_fail(r, &err);
		goto out;
	}
	const struct bx_box_make make = {
		.img = &img,
		.image_ref = c->image,
		.ro = &c->ro,
		.nm = &c->nm,
		.health = &c->health,
		.sec = &c->sec,
		.res = &c->res,
		.lc = &c->lc,
		.bo = &c->bo,
		.getenv_fn = no_env,
	};
	struct bx_vmspec *vm = calloc(1, sizeof(*vm));
	int lock = -1;
	if (!vm)
		ret = api_error(r, 500, "out of memory");
	else if (bx_box_make(&r->p, &make, vm, &lock, &err) < 0)
		ret = api_fail(r, &err); /* a name in use: 409 (EEXIST) */
	else
		ret = api_json(r, 201, json_pack("{s:s,s:[]}", "Id", vm->id, "Warnings"));
	free(vm);
	bx_image_free(&img);
out:
	api_create_free(c);
	free(c);
	return ret;
}

static enum MHD_Result list(struct api_req *r)
{
	struct bx_err err = {0};
	struct bx_box_filters filters = {0};
	if (api_filters_parse(api_arg(r, "filters"), &filters, &err) < 0) {
		bx_box_filters_free(&filters);
		return api_error(r, 400, "%s", err.msg);
	}
	bool all = api_arg_bool(r, "all") || filters.statuses; /* Docker: a status filter looks at every box */
	const char *lim = api_arg(r, "limit");
	long limit = lim ? strtol(lim, NULL, 10) : -1;
	if (limit > 0)
		all = true; /* Docker: the newest N of every state */
	struct bx_box_record *boxes = NULL;
	size_t n = 0;
	if (bx_state_list(&r->p, &boxes, &n, &err) < 0) {
		bx_box_filters_free(&filters);
		return api_fail(r, &err);
	}
	json_t *out = json_array();
	long long now = bx_real_ns();
	long shown = 0;
	for (size_t k = n; k-- > 0 && (limit <= 0 || shown < limit);) { /* newest first, as Docker */
		const struct bx_box_record *b = &boxes[k];
		if (!all && !bx_box_status_live(b->status))
			continue;
		char path[PATH_MAX];
		json_t *cfg = bx_path_join(path, sizeof(path), NULL, "%s/config.json", b->box_dir) == 0
				      ? json_load_file(path, 0, NULL) : NULL;
		if (bx_box_filter_match(&filters, b, json_object_get(json_object_get(cfg, "Config"), "Labels"))) {
			json_array_append_new(out, bx_box_list_json(b, cfg, now));
			shown++;
		}
		json_decref(cfg);
	}
	free(boxes);
	bx_box_filters_free(&filters);
	return api_json(r, 200, out);
}

static enum MHD_Result start(struct api_req *r, struct bx_box_record *rec)
{
	struct bx_err err = {0};
	if (bx_box_status_live(rec->status))
		return api_empty(r, 304); /* Docker: started already */
	/* an attach made before this start gets main's output from its first byte */
	bool attach = api_attach_pending(r->svc, rec->id);
	int rc = attach ? bx_box_start_held(&r->p, rec, &err) : bx_box_start(&r->p, rec, false, false, &err);
	if (attach)
		api_attach_take(r->svc, rec->id, rc == 0);
	if (rc < 0)
		return api_fail(r, &err);
	return api_empty(r, 204);
}

static enum MHD_Result stop(struct api_req *r, struct bx_box_record *rec)
{
	struct bx_err err = {0};
	long timeout;
	if (!api_timeout_arg(r, &timeout))
		return api_error(r, 400, "invalid t '%s': use a number of seconds", api_arg(r, "t"));
	if (!bx_box_status_live(rec->status))
		return api_empty(r, 304); /* Docker: stopped already */
	struct bx_box_config cfg;
	if (bx_box_config_read(rec->box_dir, &cfg, &err) < 0 ||
	    bx_box_stop(rec, cfg.stop_signal, timeout >= 0 ? (int)timeout : cfg.stop_timeout, &err) < 0)
		return api_fail(r, &err);
	return api_empty(r, 204);
}

static enum MHD_Result kill_box(struct api_req *r, const char *ref, struct bx_box_record *rec)
{
	struct bx_err err = {0};
	int sig = SIGKILL;
	const char *s = api_arg(r, "signal");
	if (s && *s && bx_signal_parse(s, &sig, &err) < 0)
		return api_error(r, 400, "%s", err.msg);
	if (!bx_box_status_live(rec->status))
		return api_error(r, 409, "Container %s is not running", ref);
	if (bx_box_kill(rec, sig, ref, &err) < 0)
		return api_fail(r, &err);
	return api_empty(r, 204);
}

static enum MHD_Result remove_box(struct api_req *r, const char *ref, struct bx_box_record *rec)
{
	struct bx_err err = {0};
	bool force = api_arg_bool(r, "force");
	if (!force && !bx_box_not_running(rec, NULL))
		return api_error(r, 409, "You cannot remove a running container %s. Stop the container before attempting "
					 "removal or force remove", rec->id);
	if (bx_box_remove(&r->p, ref, rec, force, api_arg_bool(r, "v"), &err) < 0)
		return api_fail(r, &err);
	return api_empty(r, 204);
}

enum MHD_Result api_containers(struct api_req *r, const char *id, const char *action)
{
	const char *m = r->method;
	bool post = !strcmp(m, "POST"), get = !strcmp(m, "GET");
	if (!id) {
		if (!strcmp(action, "create") && post)
			return create(r);
		if (!strcmp(action, "json") && get)
			return list(r);
		return api_error(r, 404, "page not found");
	}
	/* the streams look the box up themselves (they outlive this call) */
	if (!strcmp(action, "wait") && post)
		return api_wait(r, id);
	if (!strcmp(action, "logs") && get)
		return api_logs(r, id);
	if (!strcmp(action, "attach") && post)
		return api_attach(r, id);
	if (!strcmp(action, "stats") && get)
		return api_stats(r, id);
	if (api_control_action(m, action))
		return api_control(r, id, action);
	if (!strcmp(action, "changes") && get)
		return api_changes(r, id);
	if (!strcmp(action, "export") && get)
		return api_export(r, id);
	if (!strcmp(action, "resize") && post)
		return api_resize(r, id);
	if (!strcmp(action, "exec") && post)
		return api_exec_create(r, id);
	struct bx_box_record rec;
	enum MHD_Result reply;
	bool known = (!*action && !strcmp(m, "DELETE")) || (get && !strcmp(action, "json")) ||
		     (post && (!strcmp(action, "start") || !strcmp(action, "stop") || !strcmp(action, "kill")));
	if (!known)
		return api_error(r, 404, "page not found");
	if (!lookup(r, id, &rec, &reply))
		return reply;
	if (!*action)
		return remove_box(r, id, &rec);
	if (!strcmp(action, "json"))
		return api_json(r, 200, bx_box_inspect_json(&rec));
	if (!strcmp(action, "start"))
		return start(r, &rec);
	if (!strcmp(action, "stop"))
		return stop(r, &rec);
	return kill_box(r, id, &rec);
}
