/* An image's config blob (OCI or Docker): what `run` takes Entrypoint, Cmd,
 * Env, WorkingDir, User, StopSignal, Volumes and Healthcheck from, and the
 * Labels the prune filters match. */
#include "fuzz.h"
#include "image/image.h"
#include "store/health.h"

static void check_strv(char **v)
{
	for (; v && *v; v++)
		(void)strlen(*v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bx_image_config c = {0};
	struct bx_err err = {0};
	if (bx_image_config_parse((const char *)data, size, &c, &err) == 0) {
		check_strv(c.entrypoint);
		check_strv(c.cmd);
		check_strv(c.env);
		check_strv(c.volumes);
		size_t n = 0;
		for (char **v = c.volumes; v && *v; v++)
			n++;
		FZ_CHECK(n <= 16); /* each is a volume and a virtiofsd per box */
		for (char **l = c.labels; l && *l; l++)
			FZ_CHECK(strchr(*l, '=')); /* KEY=VALUE: prune.c splits at the first '=' */
		/* the Healthcheck `run` merges with the flags (store/health.c) */
		json_t *hc = c.healthcheck ? json_loads(c.healthcheck, 0, NULL) : NULL;
		FZ_CHECK(!c.healthcheck || json_is_object(hc));
		struct bx_health_config h;
		if (hc && bx_health_config_from_json(hc, &h, &err) == 0) {
			FZ_CHECK(h.ntest <= BX_HEALTH_TEST_MAX);
			check_strv(h.test);
			enum bx_health_probe p = bx_health_probe_of(&h);
			FZ_CHECK(p == BX_PROBE_NONE || h.ntest >= 2);
			FZ_CHECK(bx_health_interval_ns(&h) > 0 && bx_health_timeout_ns(&h) > 0 && bx_health_retries(&h) > 0);
			bx_health_config_free(&h);
		} else if (hc) {
			FZ_CHECK_ERR(err);
		}
		json_decref(hc);
	} else {
		FZ_CHECK_ERR(err);
	}
	bx_image_config_free(&c);
	return 0;
}
