/* --env-file contents (Docker's format), appended after an image's env. */
#include "box/runconfig.h"
#include "fuzz.h"

static const char *fake_getenv(const char *name)
{
	return strlen(name) % 2 ? "from-caller" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_cstr(data, size);
	char **env = NULL;
	size_t n = 0;
	struct bx_err err = {0};
	if (bx_envfile_parse(text, "env.list", fake_getenv, &env, &n, &err) < 0)
		FZ_CHECK_ERR(err);
	for (size_t i = 0; i < n; i++) {
		/* NAME=VALUE, or a bare NAME the caller has no value for (it unsets NAME, as in Docker) */
		FZ_CHECK(env[i] && env[i][0] && env[i][0] != '=');
		FZ_CHECK(strchr(env[i], '=') || (!strpbrk(env[i], " \t") && !fake_getenv(env[i])));
		free(env[i]);
	}
	FZ_CHECK(!env || env[n] == NULL);
	free(env);
	free(text);
	return 0;
}
