/* Platforms and image indexes / manifest lists: choose the manifest a box on
 * this host runs. Pure. */
#include "../../common/cleanup.h"
#include "../image.h"
#include "registry.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int bx_platform_parse(const char *s, struct bx_platform *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	char buf[128];
	if (!s || !*s || snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return bx_fail(err, 0, "invalid platform '%s': use OS/ARCH[/VARIANT], e.g. linux/amd64", s ? s : "");
	char *parts[4] = {0};
	int n = 0;
	for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (n == 3)
			return bx_fail(err, 0, "invalid platform '%s': use OS/ARCH[/VARIANT], e.g. linux/amd64", s);
		parts[n++] = t;
	}
	if (n == 0 || strchr(s, ' ') || s[strlen(s) - 1] == '/')
		return bx_fail(err, 0, "invalid platform '%s': use OS/ARCH[/VARIANT], e.g. linux/amd64", s);
	const char *os = n == 1 ? "linux" : parts[0], *arch = n == 1 ? parts[0] : parts[1];
	const char *variant = n == 3 ? parts[2] : "";
	/* Docker's normalisation of common spellings */
	if (!strcmp(arch, "x86_64") || !strcmp(arch, "x86-64"))
		arch = "amd64";
	else if (!strcmp(arch, "aarch64"))
		arch = "arm64";
	if (!strcmp(arch, "arm64") && !strcmp(variant, "v8"))
		variant = "";
	if (strlen(os) >= sizeof(out->os) || strlen(arch) >= sizeof(out->arch) || strlen(variant) >= sizeof(out->variant))
		return bx_fail(err, 0, "invalid platform '%s'", s);
	strcpy(out->os, os);
	strcpy(out->arch, arch);
	strcpy(out->variant, variant);
	return 0;
}

void bx_platform_default(struct bx_platform *out)
{
	memset(out, 0, sizeof(*out));
	strcpy(out->os, "linux");
	/* boxes are x86-64 microVMs (qemu-system-x86_64) whatever the host */
	strcpy(out->arch, "amd64");
}

bool bx_manifest_is_index(const char *json, size_t len)
{
	_cleanup_json_ json_t *root = json_loadb(json, len, 0, NULL);
	const char *mt = json_string_value(json_object_get(root, "mediaType"));
	return mt ? (!strcmp(mt, BX_MT_OCI_INDEX) || !strcmp(mt, BX_MT_DOCKER_LIST))
		  : json_is_array(json_object_get(root, "manifests")) && !json_object_get(root, "layers");
}

static void fmt_platform(json_t *pl, char *out, size_t size)
{
	const char *os = json_string_value(json_object_get(pl, "os"));
	const char *arch = json_string_value(json_object_get(pl, "architecture"));
	const char *var = json_string_value(json_object_get(pl, "variant"));
	snprintf(out, size, "%s/%s%s%s", os ? os : "?", arch ? arch : "?", var ? "/" : "", var ? var : "");
}

int bx_index_select(const char *json, size_t len, const struct bx_platform *p, char digest[72], long long *size,
		    struct bx_err *err)
{
	json_error_t je;
	_cleanup_json_ json_t *root = json_loadb(json, len, 0, &je);
	json_t *ms = json_object_get(root, "manifests");
	if (!json_is_array(ms))
		return bx_fail(err, 0, "the image index is not valid (no manifests array)");
	int best = -1, best_score = -1;
	size_t i;
	json_t *m;
	char have[512] = "";
	size_t hl = 0;
	json_array_foreach(ms, i, m) {
		json_t *pl = json_object_get(m, "platform");
		const char *os = json_string_value(json_object_get(pl, "os"));
		const char *arch = json_string_value(json_object_get(pl, "architecture"));
		const char *var = json_string_value(json_object_get(pl, "variant"));
		const char *dg = json_string_value(json_object_get(m, "digest"));
		if (!os || !arch || !dg)
			continue; /* attestations and other non-image entries carry no usable platform */
		if (!strcmp(os, "unknown"))
			continue;
		char one[64];
		fmt_platform(pl, one, sizeof(one));
		if (hl + strlen(one) + 3 < sizeof(have))
			hl += (size_t)snprintf(have + hl, sizeof(have) - hl, "%s%s", hl ? ", " : "", one);
		if (strcmp(os, p->os) || strcmp(arch, p->arch))
			continue;
		int score;
		if (p->variant[0])
			score = var && !strcmp(var, p->variant) ? 2 : -1;
		else
			score = !var || !*var || (!strcmp(arch, "arm64") && !strcmp(var, "v8")) ? 2 : 1;
		if (score > best_score) {
			best_score = score;
			best = (int)i;
		}
	}
	if (best < 0)
		return bx_fail(err, 0, "no matching manifest for %s/%s%s%s in the manifest list entries (the image has: %s)",
			       p->os, p->arch, p->variant[0] ? "/" : "", p->variant, hl ? have : "no platforms");
	m = json_array_get(ms, (size_t)best);
	const char *dg = json_string_value(json_object_get(m, "digest"));
	if (!bx_digest_valid(dg))
		return bx_fail(err, 0, "the image index names manifest '%s', which is not a sha256 digest", dg);
	json_t *sz = json_object_get(m, "size");
	if (!json_is_integer(sz) || json_integer_value(sz) <= 0 || json_integer_value(sz) > BX_MANIFEST_MAX) {
		/* the size is what bounds the download: without it a registry could send anything */
		return bx_fail(err, 0, "the image index entry for manifest %s has %s size (at most %u bytes is accepted)",
			       dg, sz ? "an invalid" : "no", BX_MANIFEST_MAX);
	}
	strcpy(digest, dg);
	*size = json_integer_value(sz);
	return 0;
}
