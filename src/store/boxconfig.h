/* A box's lifecycle settings (restart policy, log options, stop signal and
 * timeout), fixed at create and kept in DATA/boxes/<id>/config.json beside
 * the Docker-shaped Config/HostConfig that `inspect` prints. The shim reads
 * them to apply the restart policy and rotate the log. Parsers are pure. */
#ifndef BOXVM_BOXCONFIG_H
#define BOXVM_BOXCONFIG_H

#include <stdbool.h>

#include "../common/err.h"

enum bx_restart_kind { BX_RESTART_NO, BX_RESTART_ON_FAILURE, BX_RESTART_ALWAYS, BX_RESTART_UNLESS_STOPPED };

struct bx_restart_policy {
	enum bx_restart_kind kind;
	int max_retries; /* on-failure:N; 0 = unlimited */
};

struct bx_log_opts {
	long long max_size; /* bytes per file; 0 = unlimited (no rotation) */
	int max_file;       /* files kept, current one included (>= 1) */
};

struct bx_box_config {
	struct bx_restart_policy restart;
	struct bx_log_opts log;
	int stop_signal;  /* signal number */
	int stop_timeout; /* seconds before stop kills the VM */
};

void bx_box_config_defaults(struct bx_box_config *c);

/* "no", "always", "unless-stopped", "on-failure[:N]" */
int bx_restart_policy_parse(const char *s, struct bx_restart_policy *out, struct bx_err *err);
const char *bx_restart_kind_name(enum bx_restart_kind k);
/* Should the box be started again after main exited with code, having been
 * restarted restart_count times already? */
bool bx_restart_should(const struct bx_restart_policy *p, int code, int restart_count, bool manually_stopped);
/* Should `boxvm system boot` (run once at host boot) start this box again,
 * as Docker's daemon does when it starts? always: yes, even after a user
 * stop; unless-stopped: unless the user stopped it; on-failure and no: never
 * (Docker's on-failure "doesn't restart the container if the daemon
 * restarts"). A box never started (created) stays as it is. */
bool bx_restart_at_boot(const struct bx_restart_policy *p, bool manually_stopped, bool ever_started);
/* Delay before restart number `consecutive` (0-based) of a box that keeps
 * failing fast: 100 ms doubling up to 60 s, as Docker does. */
long long bx_restart_backoff_ms(int consecutive);
/* A run this long (ms) counts as stable: the backoff starts over. */
#define BX_RESTART_STABLE_MS 10000

/* "max-size=10m" | "max-file=3" (k, m, g units), applied onto *o. */
int bx_log_opt_parse(const char *kv, struct bx_log_opts *o, struct bx_err *err);

/* "TERM", "SIGTERM", "sigterm", "15" -> 15. */
int bx_signal_parse(const char *s, int *sig, struct bx_err *err);
/* 15 -> "SIGTERM" (NULL if unknown). */
const char *bx_signal_name(int sig);

/* config.json: read the lifecycle part (missing file: defaults). */
int bx_box_config_read(const char *box_dir, struct bx_box_config *c, struct bx_err *err);

/* The names of the box's anonymous volumes (Mounts of Type volume whose
 * Destination is in Config.Volumes, as Docker tells them apart), which
 * `rm -v` and the end of a --rm box remove. Returns how many (at most cap;
 * 0 when config.json is missing or unreadable). */
#define BX_VOLUME_NAME_MAX 128
int bx_box_anon_volumes(const char *box_dir, char (*names)[BX_VOLUME_NAME_MAX], int cap);

#endif
