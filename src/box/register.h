/* What `run` and `create` add to a box beyond its VM: a name, lifecycle
 * settings (config.json) and the state record, plus rollback. */
#ifndef BOXVM_BOX_REGISTER_H
#define BOXVM_BOX_REGISTER_H

#include <jansson.h>
#include <stdbool.h>

#include "../box/runconfig.h"
#include "../common/err.h"
#include "../common/paths.h"
#include "../image/image.h"
#include "../proto/spec.h"
#include "../store/boxconfig.h"
#include "../vm/vmspec.h"

struct bx_box_lc {
	bool detach;
	const char *name;          /* --name (NULL: generated) */
	const char *stop_signal;   /* --stop-signal (NULL: image's, else SIGTERM) */
	int stop_timeout;          /* --stop-timeout (-1: default 10) */
	struct bx_box_config cfg;
	char **labels;             /* -l/--label "K=V", NULL-terminated */
	char name_buf[128];        /* the name in effect */
	int op_fd;                 /* the store operation from reserve to record (bx_store_op_begin) */
	struct bx_run_record rec;  /* Config.Env, Entrypoint, Cmd as Docker records them */
	long long nano_cpus;       /* --cpus as given (HostConfig.NanoCpus; 0: not given) */
	char **log_opts;           /* --log-opt K=V as given (HostConfig.LogConfig.Config), NULL-terminated */
	json_t *mounts_view;       /* Mounts, Binds, Volumes, Tmpfs (mounts_view.h); NULL: none */
	json_t *host_config;       /* more of HostConfig as given (network, DNS, hosts, read-only); NULL: none */
	json_t *healthcheck;       /* Config.Healthcheck (flags merged with the image's); NULL: none */
};

void bx_box_lc_init(struct bx_box_lc *lc);
void bx_box_lc_free(struct bx_box_lc *lc);
/* Before the box is built: its directory (so the name never points at
 * nothing) and its name, reserved atomically. */
int bx_box_reserve(const struct bx_paths *p, const char *id, struct bx_box_lc *lc, struct bx_err *err);
/* After bx_box_create: config.json, then the record ("created"). */
int bx_box_register(const struct bx_paths *p, const struct bx_vmspec *vm, const struct bx_image *img,
		     const char *image_ref, const struct bx_spec *spec, struct bx_box_lc *lc, bool hold_output,
		     struct bx_err *err);
/* Undo bx_box_reserve: the name and the box directory. */
void bx_box_unreserve(const struct bx_paths *p, const char *id, struct bx_box_lc *lc);

/* Shell-like display of argv for ps ("sh -c 'echo hi'"). */
void bx_format_command(char *const *args, char *out, size_t size);

#endif
