/* `run`/`create` flags for the process's privileges: --cap-add, --cap-drop,
 * --privileged and --security-opt, Docker's rules (pure: parsed, checked
 * and turned into the main process's capability sets, unit-tested). */
#ifndef BOXVM_BOX_SECOPTS_H
#define BOXVM_BOX_SECOPTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../common/err.h"
#include "../proto/spec.h"

struct bx_secopts {
	char **cap_add, **cap_drop; /* as given ("net_admin", "CAP_SYS_TIME", "ALL"), NULL-terminated, may be NULL */
	char **security_opt;        /* as given, NULL-terminated, may be NULL */
	bool privileged;
	char **group_add;           /* --group-add: names or gids as given, NULL-terminated, may be NULL */
	int oom_score_adj;          /* --oom-score-adj (-1000..1000; 0: not given) */
	int64_t shm_size;           /* --shm-size bytes (0: Docker's 64m) */
	/* the API's HostConfig.MaskedPaths / ReadonlyPaths when given (an empty list: none) */
	bool masked_given, readonly_given;
	/* --init: recorded (HostConfig.Init); the agent, PID 1, is main's init anyway (secopts.c) */
	bool init_given, init;
	char **masked_paths, **readonly_paths; /* NULL-terminated, may be NULL */
};

/* --shm-size's value (Docker's RAMInBytes: a number with b, k, m or g) -> bytes. */
int bx_shm_size_parse(const char *text, int64_t *bytes, struct bx_err *err);

/* What Docker's client does first: each --security-opt seccomp=FILE becomes
 * seccomp=<the file's JSON, compacted> (Docker's words if it cannot be read
 * or is not JSON). The CLI calls it; API clients send the JSON already. */
int bx_secopts_read_profiles(struct bx_secopts *o, struct bx_err *err);
/* What Docker's client checks (--security-opt words: `Invalid --security-opt:
 * "x"`) and its daemon (`invalid CapAdd: unknown capability: "CAP_FOO"`). */
int bx_secopts_check(const struct bx_secopts *o, struct bx_err *err);
/* The capability sets and no_new_privs of main (its execs inherit them), as
 * Docker computes them: --privileged every capability; --cap-drop ALL keeps
 * only --cap-add's; --cap-add ALL all but --cap-drop's; else Docker's
 * default set less --cap-drop's plus --cap-add's. */
int bx_secopts_apply(const struct bx_secopts *o, struct bx_spec *spec, struct bx_err *err);
/* main's seccomp filter (its execs inherit it), once bx_secopts_apply has
 * set its capabilities: none with --privileged or seccomp=unconfined, else
 * seccomp=<JSON>'s profile or Docker's default, evaluated against the
 * bounding set and the guest kernel's release ("6.1.0-..."), compiled. */
int bx_secopts_seccomp(const struct bx_secopts *o, const char *kernel_release, struct bx_spec *spec,
		       struct bx_err *err);
/* --group-add, --oom-score-adj, --shm-size, and Docker's masked and read-only
 * paths unless --privileged or systempaths=unconfined, into main's spec
 * (an exec inherits the groups and the oom score). */
int bx_secopts_confine(const struct bx_secopts *o, struct bx_spec *spec, struct bx_err *err);
/* HostConfig's CapAdd, CapDrop (null when not given), Privileged, SecurityOpt, as given;
 * GroupAdd, OomScoreAdj, ShmSize, MaskedPaths and ReadonlyPaths as Docker records them. */
json_t *bx_secopts_host_config(const struct bx_secopts *o);
void bx_secopts_free(struct bx_secopts *o);

#endif
