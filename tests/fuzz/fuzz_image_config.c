/* An image's config blob (OCI or Docker): what `run` takes Entrypoint, Cmd,
 * Env, WorkingDir, User, StopSignal and Volumes from, and the Labels the
 * prune filters match. */
#include "fuzz.h"
#include "image/image.h"

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
	} else {
		FZ_CHECK_ERR(err);
	}
	bx_image_config_free(&c);
	return 0;
}
