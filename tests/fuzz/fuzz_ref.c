/* Image references (pull, run, tag, load names) and what a registry sends
 * back in a WWW-Authenticate header, plus --platform. */
#include "fuzz.h"
#include "lib/image.h"
#include "lib/ref.h"
#include "lib/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_cstr(data, size);
	struct bx_ref r;
	struct bx_err err = {0};
	if (bx_ref_parse(text, &r, &err) == 0) {
		FZ_CHECK(r.domain[0] && r.path[0] && (r.tag[0] || r.digest[0]));
		FZ_CHECK(!r.digest[0] || bx_digest_valid(r.digest));
		(void)bx_ref_api_host(&r);
		(void)bx_ref_host_is_loopback(r.domain);
		char fam[600];
		struct bx_err ferr = {0};
		FZ_CHECK(bx_ref_familiar(&r, true, fam, sizeof(fam), &ferr) == 0);
		FZ_CHECK(bx_ref_familiar(&r, false, fam, sizeof(fam), &ferr) == 0);
		/* the familiar name parses back to the same reference */
		struct bx_ref again;
		FZ_CHECK(bx_ref_familiar(&r, true, fam, sizeof(fam), &ferr) == 0);
		FZ_CHECK(bx_ref_parse(fam, &again, &ferr) == 0);
		FZ_CHECK(!strcmp(r.domain, again.domain) && !strcmp(r.path, again.path) &&
			 !strcmp(r.tag, again.tag) && !strcmp(r.digest, again.digest));
	} else {
		FZ_CHECK_ERR(err);
	}
	char norm[512];
	struct bx_err nerr = {0};
	if (bx_image_ref_normalize(text, norm, sizeof(norm), &nerr) < 0)
		FZ_CHECK_ERR(nerr);

	struct bx_auth_challenge ch;
	struct bx_err cerr = {0};
	if (bx_auth_challenge_parse(text, &ch, &cerr) == 0) {
		FZ_CHECK(memchr(ch.scheme, '\0', sizeof(ch.scheme)) && memchr(ch.realm, '\0', sizeof(ch.realm)) &&
			 memchr(ch.service, '\0', sizeof(ch.service)) && memchr(ch.scope, '\0', sizeof(ch.scope)) &&
			 memchr(ch.error, '\0', sizeof(ch.error)));
	} else {
		FZ_CHECK_ERR(cerr);
	}
	struct bx_platform p;
	struct bx_err perr = {0};
	if (bx_platform_parse(text, &p, &perr) < 0)
		FZ_CHECK_ERR(perr);
	free(text);
	return 0;
}
