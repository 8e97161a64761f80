/* Checking credentials against a registry (registry.h): what `boxvm login`
 * does before it stores them, and the Engine API's POST /auth. */
#include "registry.h"

#include <stdio.h>
#include <string.h>

int bx_registry_server_name(const char *arg, char *out, size_t size, struct bx_err *err)
{
	if (!arg || !*arg)
		arg = "docker.io";
	const char *s = strstr(arg, "://") ? strstr(arg, "://") + 3 : arg;
	size_t l = strcspn(s, "/");
	if (l == 0 || l >= size)
		return bx_fail(err, 0, "invalid registry server '%s'", arg);
	memcpy(out, s, l);
	out[l] = '\0';
	if (!strcmp(out, "index.docker.io") || !strcmp(out, "registry-1.docker.io"))
		snprintf(out, size, "docker.io");
	return 0;
}

int bx_registry_login_check(const struct bx_paths *p, const char *server, const struct bx_credentials *c,
			    struct bx_err *err)
{
	struct bx_registry reg;
	struct bx_ref ref = {0};
	snprintf(ref.domain, sizeof(ref.domain), "%s", server);
	if (bx_registry_open(&reg, p, &ref, err) < 0) {
		bx_registry_close(&reg);
		return -1;
	}
	reg.creds = *c;
	reg.have_creds = true;
	int rc = bx_registry_ping(&reg, err);
	if (rc < 0)
		bx_wrap(err, "login to %s failed", server);
	bx_registry_close(&reg);
	return rc;
}
