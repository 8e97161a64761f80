/* What `run` and `create` add to a box beyond its VM (register.h). */
#include "register.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/crashpoint.h"
#include "../image/rootfs.h"
#include "../store/events.h"
#include "../store/networks.h"
#include "../store/state.h"

void bx_box_lc_init(struct bx_box_lc *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->stop_timeout = -1;
	lc->op_fd = -1;
	bx_box_config_defaults(&lc->cfg);
}

void bx_box_lc_free(struct bx_box_lc *lc)
{
	bx_strv_free(lc->labels);
	lc->labels = NULL;
	bx_strv_free(lc->log_opts);
	lc->log_opts = NULL;
	bx_store_op_end(lc->op_fd);
	lc->op_fd = -1;
	bx_run_record_free(&lc->rec);
	json_decref(lc->mounts_view);
	lc->mounts_view = NULL;
	json_decref(lc->host_config);
	lc->host_config = NULL;
	json_decref(lc->healthcheck);
	lc->healthcheck = NULL;
}

int bx_box_reserve(const struct bx_paths *p, const char *id, struct bx_box_lc *lc, struct bx_err *err)
{
	char boxes[PATH_MAX], dir[PATH_MAX] = "";
	/* a box dir without a record is a leftover only when nobody is creating
	 * one: held until the record is written (or the box undone). `run`
	 * takes it earlier, before it creates the volumes it names: a volume
	 * rm waits for it (state_sweep.c) */
	if (lc->op_fd < 0 && (lc->op_fd = bx_store_op_begin(p->data, err)) < 0)
		return -1;
	if (bx_path_join(boxes, sizeof(boxes), err, "%s/boxes", p->data) < 0 || bx_mkdir_p(boxes, 0700, err) < 0 ||
	    bx_state_box_dir(p, id, dir, sizeof(dir), err) < 0 || bx_mkdir_p(dir, 0700, err) < 0) {
		if (dir[0])
			bx_rm_rf(dir, NULL);
		bx_store_op_end(lc->op_fd);
		lc->op_fd = -1;
		return -1;
	}
	int rc;
	if (lc->name) {
		const char *n = lc->name[0] == '/' ? lc->name + 1 : lc->name;
		rc = bx_name_reserve(p, n, id, err);
		if (rc == 0)
			snprintf(lc->name_buf, sizeof(lc->name_buf), "%s", n);
	} else {
		rc = bx_name_generate(p, id, lc->name_buf, sizeof(lc->name_buf), err);
	}
	if (rc < 0) {
		bx_rm_rf(dir, NULL);
		bx_store_op_end(lc->op_fd);
		lc->op_fd = -1;
		return -1;
	}
	bx_crash_point("create.reserved");
	return 0;
}

void bx_box_unreserve(const struct bx_paths *p, const char *id, struct bx_box_lc *lc)
{
	char dir[PATH_MAX];
	if (lc->op_fd < 0)
		lc->op_fd = bx_store_op_begin(p->data, NULL); /* undone after its record was written */
	if (lc->name_buf[0])
		bx_name_release(p, lc->name_buf, id);
	bx_networks_release_box(p, id); /* the addresses it was given on named networks */
	if (bx_state_box_dir(p, id, dir, sizeof(dir), NULL) == 0)
		bx_box_remove_dir(dir, NULL);
	bx_store_op_end(lc->op_fd);
	lc->op_fd = -1;
}

void bx_format_command(char *const *args, char *out, size_t size)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; args && args[i] && o + 1 < size; i++) {
		const char *a = args[i];
		bool quote = !*a || strpbrk(a, " \t\n'\"\\$`;&|<>()*?[]{}!#~") != NULL;
		int n = snprintf(out + o, size - o, "%s%s", i ? " " : "", quote ? "'" : "");
		o += n > 0 ? (size_t)n : 0;
		for (; *a && o + 5 < size; a++) {
			if (*a == '\'' && quote) {
				memcpy(out + o, "'\\''", 4);
				o += 4;
			} else {
				out[o++] = *a;
			}
		}
		if (quote && o + 1 < size)
			out[o++] = '\'';
		out[o < size ? o : size - 1] = '\0';
	}
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();
	if (!a)
		return NULL;
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int write_config(const struct bx_vmspec *vm, const struct bx_image *img, const char *image_ref,
			const struct bx_spec *spec, const struct bx_box_lc *lc, struct bx_err *err)
{
	json_t *labels = json_object();
	for (size_t i = 0; lc->labels && lc->labels[i]; i++) {
		const char *eq = strchr(lc->labels[i], '=');
		char key[256];
		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - lc->labels[i]) : (int)strlen(lc->labels[i]),
			 lc->labels[i]);
		json_object_set_new(labels, key, json_string(eq ? eq + 1 : ""));
	}
	/* as given, as Docker records them ({} for none); boxconfig.c parses them again at each start */
	json_t *logcfg = json_object();
	for (size_t i = 0; lc->log_opts && lc->log_opts[i]; i++) {
		const char *eq = strchr(lc->log_opts[i], '=');
		char key[64];
		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - lc->log_opts[i]) : 0, lc->log_opts[i]);
		if (eq)
			json_object_set_new(logcfg, key, json_string(eq + 1));
	}
	/* as given (--stop-signal, else the image's), "" for neither: the
	 * signal in effect is parsed from it again at each stop (boxconfig.c) */
	const char *sig = lc->stop_signal ? lc->stop_signal : img->config.stop_signal ? img->config.stop_signal : "";
	json_t *mv = lc->mounts_view;
	json_t *o = json_pack(
		"{s:s,s:o,s:{s:s?,s:s,s:o*,s:o*,s:o*,s:s?,s:s?,s:o,s:s,s:i,s:b,s:b,s:O*},"
		"s:{s:{s:s,s:i},s:b,s:{s:s,s:o},s:I,s:I,s:O*,s:O*},s:O*}",
		"Path", spec->nargs ? spec->args[0] : "", "Args", strv_json(spec->nargs ? spec->args + 1 : NULL), "Config",
		"Hostname", spec->hostname, "Image", image_ref, "Entrypoint", lc->rec.entrypoint ? strv_json(lc->rec.entrypoint) : NULL,
		"Cmd", lc->rec.cmd ? strv_json(lc->rec.cmd) : NULL, "Env", lc->rec.env ? strv_json(lc->rec.env) : NULL,
		"WorkingDir", spec->cwd, "User", spec->user, "Labels", labels, "StopSignal", sig,
		"StopTimeout", lc->cfg.stop_timeout, "Tty", spec->tty, "OpenStdin", spec->stdin_open, "Volumes",
		json_object_get(mv, "Volumes"), "HostConfig", "RestartPolicy", "Name",
		bx_restart_kind_name(lc->cfg.restart.kind), "MaximumRetryCount", lc->cfg.restart.max_retries, "AutoRemove",
		vm->auto_remove, "LogConfig", "Type", "json-file", "Config", logcfg, "Memory", (json_int_t)vm->mem_mb << 20,
		"NanoCpus", (json_int_t)lc->nano_cpus, "Binds", json_object_get(mv, "Binds"), "Tmpfs",
		json_object_get(mv, "Tmpfs"), "Mounts", json_object_get(mv, "Mounts"));
	if (!o)
		return bx_fail(err, ENOMEM, "cannot encode the box's configuration");
	if (lc->host_config)
		json_object_update(json_object_get(o, "HostConfig"), lc->host_config);
	if (lc->healthcheck)
		json_object_set(json_object_get(o, "Config"), "Healthcheck", lc->healthcheck);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	char path[PATH_MAX];
	int rc = -1;
	if (!text)
		bx_fail(err, ENOMEM, "out of memory");
	else if (bx_path_join(path, sizeof(path), err, "%s/config.json", vm->box_dir) == 0)
		rc = bx_write_file_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return rc;
}

int bx_box_register(const struct bx_paths *p, const struct bx_vmspec *vm, const struct bx_image *img,
		     const char *image_ref, const struct bx_spec *spec, struct bx_box_lc *lc, bool hold_output,
		     struct bx_err *err)
{
	/* --stop-signal, else the image's StopSignal, else SIGTERM */
	const char *ss = lc->stop_signal ? lc->stop_signal : img->config.stop_signal;
	if (ss && bx_signal_parse(ss, &lc->cfg.stop_signal, err) < 0)
		return -1;
	if (lc->stop_timeout >= 0)
		lc->cfg.stop_timeout = lc->stop_timeout;
	if (write_config(vm, img, image_ref, spec, lc, err) < 0)
		return -1;
	struct bx_box_record r;
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "%s", vm->id);
	snprintf(r.name, sizeof(r.name), "%s", lc->name_buf);
	snprintf(r.image, sizeof(r.image), "%s", image_ref);
	snprintf(r.image_id, sizeof(r.image_id), "%s", img->id);
	snprintf(r.box_dir, sizeof(r.box_dir), "%s", vm->box_dir);
	snprintf(r.run_dir, sizeof(r.run_dir), "%s", vm->run_dir);
	r.status = BX_BOX_CREATED;
	r.created_ns = bx_real_ns();
	r.auto_remove = vm->auto_remove;
	r.hold_output = hold_output;
	bx_format_command(spec->args, r.command, sizeof(r.command));
	bx_crash_point("create.built");
	if (bx_state_write(&r, err) < 0)
		return -1;
	bx_event_box(vm->box_dir, "create", NULL, NULL);
	bx_store_op_end(lc->op_fd); /* the box is whole: a record, "created" */
	lc->op_fd = -1;
	bx_crash_point("create.registered");
	return 0;
}
