/* Health checks (Docker 20.10's HEALTHCHECK): the check's configuration as
 * config.json's Config.Healthcheck holds it (parsed, merged with the
 * image's, validated), the state machine of the results (pure), and the
 * box's last health, BOXDIR/health.json (Docker's State.Health, written by
 * the shim with temp + rename, read by inspect and ps). */
#ifndef BOXVM_STORE_HEALTH_H
#define BOXVM_STORE_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"

#define BX_HEALTH_FILE "health.json"
/* Docker's bounds: the last 5 results, 4096 bytes of a check's output */
#define BX_HEALTH_LOG_MAX 5
#define BX_HEALTH_OUTPUT_MAX 4096
/* the kept output as valid UTF-8 (a bad byte becomes U+FFFD, 3 bytes) + "..." */
#define BX_HEALTH_OUTPUT_TEXT (3 * BX_HEALTH_OUTPUT_MAX + 4)
/* Docker's defaults (daemon/health.go) */
#define BX_HEALTH_INTERVAL_NS 30000000000LL
#define BX_HEALTH_TIMEOUT_NS 30000000000LL
#define BX_HEALTH_RETRIES 3
#define BX_HEALTH_MIN_NS 1000000LL /* containertypes.MinimumDuration */
/* a hostile image: at most this many Test words */
#define BX_HEALTH_TEST_MAX 256

/* Config.Healthcheck: 0 means "not set" (the default applies), as Docker's */
struct bx_health_config {
	char **test; /* NULL-terminated; NULL: none */
	size_t ntest;
	long long interval_ns, timeout_ns, start_period_ns;
	int retries;
};

void bx_health_config_free(struct bx_health_config *c);
/* From a Healthcheck object (NULL or not an object: empty). Ill-typed
 * fields are ignored, as a hostile image may hold anything. */
int bx_health_config_from_json(const json_t *o, struct bx_health_config *c, struct bx_err *err);
/* Docker's shape, omitting what is empty (Go's omitempty). */
json_t *bx_health_config_json(const struct bx_health_config *c);
/* Docker's merge of the user's Healthcheck with the image's (user_set: the
 * user gave one): every field the user left empty is taken from the image. */
int bx_health_config_merge(struct bx_health_config *user, bool user_set, const struct bx_health_config *image,
			   struct bx_err *err);
/* The daemon's checks of the user's values ("Interval in Healthcheck cannot
 * be less than 1ms"...). */
int bx_health_config_check(const struct bx_health_config *c, struct bx_err *err);

enum bx_health_probe { BX_PROBE_NONE, BX_PROBE_CMD, BX_PROBE_SHELL };
/* What runs: Test[0] CMD (Test[1:] as argv), CMD-SHELL (/bin/sh -c Test[1]),
 * anything else (NONE, empty, unknown) no check. */
enum bx_health_probe bx_health_probe_of(const struct bx_health_config *c);
/* The values in effect (defaults for what is 0). */
long long bx_health_interval_ns(const struct bx_health_config *c);
long long bx_health_timeout_ns(const struct bx_health_config *c);
int bx_health_retries(const struct bx_health_config *c);

/* config.json's Config.Healthcheck of the box in box_dir (none: empty) */
int bx_health_config_read(const char *box_dir, struct bx_health_config *c, struct bx_err *err);

/* ---- results and state ---- */

enum bx_health_status { BX_HEALTH_STARTING, BX_HEALTH_HEALTHY, BX_HEALTH_UNHEALTHY };

struct bx_health_result {
	long long start_ns, end_ns; /* unix ns */
	int exit_code;              /* -1: the check did not finish (timeout, no answer) */
	size_t output_len;
	char output[BX_HEALTH_OUTPUT_TEXT]; /* valid UTF-8 (may hold NULs), output_len bytes */
};

struct bx_health {
	enum bx_health_status status;
	int failing_streak;
	int nlog;
	struct bx_health_result log[BX_HEALTH_LOG_MAX]; /* oldest first */
};

const char *bx_health_status_name(enum bx_health_status s);
/* "starting" | "healthy" | "unhealthy" -> status; -1 if none */
int bx_health_status_parse(const char *s);

/* A check's output as it arrives (stdout and stderr together): the first
 * BX_HEALTH_OUTPUT_MAX bytes kept, the rest counted as truncation. */
struct bx_health_capture {
	size_t len;
	bool truncated;
	char buf[BX_HEALTH_OUTPUT_MAX];
};
void bx_health_capture_add(struct bx_health_capture *c, const void *p, size_t n);
/* The result's Output as Docker shows it: the kept bytes (invalid UTF-8 as
 * U+FFFD), "..." after them when some were cut. */
void bx_health_capture_text(const struct bx_health_capture *c, struct bx_health_result *r);
/* Output = text (a timeout's message) */
void bx_health_result_text(struct bx_health_result *r, const char *text);

/* A (re)start of the box: "starting", streak 0, the log kept (Docker). */
void bx_health_reset(struct bx_health *h);
/* The box stopped: Docker marks it unhealthy ("for compatibility"), the
 * streak and log kept, no event. */
void bx_health_stopped(struct bx_health *h);
/* Docker's handleProbeResult: the result joins the log (the newest 5 kept);
 * 0 is a success (healthy, streak 0); anything else adds to the streak
 * unless the box is still starting within its start period (result's start
 * - started_ns < start period), and `retries` in a row make it unhealthy.
 * Returns true when the status changed (an event is due). */
bool bx_health_record(struct bx_health *h, const struct bx_health_result *r, const struct bx_health_config *c,
		      long long started_ns);

/* Docker's State.Health JSON (Start/End as RFC 3339 with nanoseconds,
 * trailing zeros dropped) and back. */
json_t *bx_health_json(const struct bx_health *h);
int bx_health_from_json(const json_t *o, struct bx_health *h, struct bx_err *err);
/* RFC 3339 in UTC as Go's RFC3339Nano prints it */
void bx_health_time_format(long long ns, char *out, size_t size);

/* BOXDIR/health.json: write (temp + rename), read (1 and *h, 0 when the
 * box has no health: never started with a check). */
int bx_health_write(const char *box_dir, const struct bx_health *h, struct bx_err *err);
int bx_health_read(const char *box_dir, struct bx_health *h, struct bx_err *err);
/* Only the status (ps): enum bx_health_status, or -1 when the box has no
 * health (or its file is unreadable). */
int bx_health_status_read(const char *box_dir);

#endif
