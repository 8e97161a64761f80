/* `run`/`create` health flags (--health-cmd, --health-interval,
 * --health-timeout, --health-retries, --health-start-period,
 * --no-healthcheck): collected while parsing, checked with Docker's rules
 * before anything is created, then merged with the image's HEALTHCHECK into
 * the Config.Healthcheck that config.json records. */
#ifndef BOXVM_BOX_HEALTHOPTS_H
#define BOXVM_BOX_HEALTHOPTS_H

#include <jansson.h>
#include <stdbool.h>

#include "../common/err.h"
#include "../store/health.h"

struct bx_healthopts {
	const char *cmd;  /* --health-cmd (NULL: not given) */
	bool none;        /* --no-healthcheck */
	bool any;         /* a --health-* flag with a non-zero value (Docker's haveHealthSettings) */
	struct bx_health_config cfg; /* what the flags set (0: not set) */
};

/* One flag's value into h ("health-interval", "5s"): Docker's parse errors
 * (`invalid argument "x" for "--health-interval" flag: ...`). */
int bx_healthopts_flag(struct bx_healthopts *h, const char *flag, const char *val, struct bx_err *err);
/* The client's and the daemon's checks of what the flags set. */
int bx_healthopts_check(struct bx_healthopts *h, struct bx_err *err);
/* Config.Healthcheck: the flags merged with the image's Healthcheck (its
 * JSON, may be NULL); *out NULL when neither has one. */
int bx_healthopts_build(struct bx_healthopts *h, const char *image_hc, json_t **out, struct bx_err *err);
void bx_healthopts_free(struct bx_healthopts *h);

#endif
