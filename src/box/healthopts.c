/* `run`/`create` health flags with Docker 20.10's rules (see run_health.h):
 * cli/command/container/opts.go for the flags, the daemon's
 * verifyContainerSettings for the values, daemon/commit.go's merge. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/goduration.h"
#include "healthopts.h"

int bx_healthopts_flag(struct bx_healthopts *h, const char *flag, const char *val, struct bx_err *err)
{
	if (!strcmp(flag, "health-cmd")) {
		h->cmd = val;
		if (*val)
			h->any = true;
		return 0;
	}
	if (!strcmp(flag, "no-healthcheck")) {
		h->none = true; /* (the caller passes only --no-healthcheck=true) */
		return 0;
	}
	if (!strcmp(flag, "health-retries")) {
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (!*val || *end)
			return bx_fail(err, 0, "invalid argument \"%s\" for \"--%s\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax",
				       val, flag, val);
		if (errno || v > 2147483647L || v < -2147483648L)
			return bx_fail(err, 0, "invalid argument \"%s\" for \"--%s\" flag: strconv.ParseInt: parsing \"%s\": value out of range",
				       val, flag, val);
		h->cfg.retries = (int)v;
		h->any = h->any || v != 0;
		return 0;
	}
	long long ns;
	if (bx_goduration_parse(val, &ns, err) < 0)
		return bx_wrap(err, "invalid argument \"%s\" for \"--%s\" flag", val, flag);
	if (!strcmp(flag, "health-interval"))
		h->cfg.interval_ns = ns;
	else if (!strcmp(flag, "health-timeout"))
		h->cfg.timeout_ns = ns;
	else
		h->cfg.start_period_ns = ns;
	h->any = h->any || ns != 0;
	return 0;
}

int bx_healthopts_check(struct bx_healthopts *h, struct bx_err *err)
{
	if (h->none) {
		if (h->any)
			return bx_fail(err, 0, "--no-healthcheck conflicts with --health-* options");
		return 0;
	}
	if (!h->any)
		return 0;
	if (h->cfg.interval_ns < 0)
		return bx_fail(err, 0, "--health-interval cannot be negative");
	if (h->cfg.timeout_ns < 0)
		return bx_fail(err, 0, "--health-timeout cannot be negative");
	if (h->cfg.retries < 0)
		return bx_fail(err, 0, "--health-retries cannot be negative");
	if (h->cfg.start_period_ns < 0)
		return bx_fail(err, 0, "--health-start-period cannot be negative");
	return bx_health_config_check(&h->cfg, err);
}

int bx_healthopts_build(struct bx_healthopts *h, const char *image_hc, json_t **out, struct bx_err *err)
{
	*out = NULL;
	bool user_set = h->none || h->any;
	if (h->none) {
		/* Docker: Test ["NONE"] and nothing else from the flags */
		bx_health_config_free(&h->cfg);
		if (!(h->cfg.test = calloc(2, sizeof(char *))))
			return bx_fail(err, ENOMEM, "out of memory");
		h->cfg.ntest = 1; /* (set first: bx_health_config_free frees what was made) */
		if (!(h->cfg.test[0] = strdup("NONE")))
			return bx_fail(err, ENOMEM, "out of memory");
	} else if (h->any && h->cmd && *h->cmd) {
		if (!(h->cfg.test = calloc(3, sizeof(char *))))
			return bx_fail(err, ENOMEM, "out of memory");
		h->cfg.ntest = 2;
		if (!(h->cfg.test[0] = strdup("CMD-SHELL")) || !(h->cfg.test[1] = strdup(h->cmd)))
			return bx_fail(err, ENOMEM, "out of memory");
	}
	struct bx_health_config img = {0};
	if (image_hc) {
		json_t *o = json_loads(image_hc, 0, NULL);
		int rc = bx_health_config_from_json(o, &img, err);
		json_decref(o);
		if (rc < 0)
			return bx_wrap(err, "the image's health check");
	}
	int rc = 0;
	if (image_hc)
		rc = bx_health_config_merge(&h->cfg, user_set, &img, err);
	bx_health_config_free(&img);
	if (rc < 0)
		return -1;
	if (!user_set && !image_hc)
		return 0;
	if (!(*out = bx_health_config_json(&h->cfg)))
		return bx_fail(err, ENOMEM, "out of memory");
	return 0;
}

void bx_healthopts_free(struct bx_healthopts *h)
{
	bx_health_config_free(&h->cfg);
}
