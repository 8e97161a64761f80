/* Image manifests and indexes (manifest lists) as a registry or an image
 * archive serves them: the store's manifest parser, the index test and the
 * platform pick that `pull` makes from an index. */
#include "fuzz.h"
#include "image/image.h"
#include "image/registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	struct bx_err err = {0};
	struct bx_manifest m = {0};
	if (bx_manifest_parse(json, size, &m, &err) == 0) {
		FZ_CHECK(bx_digest_valid(m.config));
		FZ_CHECK(m.layers && m.layers[m.nlayers] == NULL);
		for (size_t i = 0; i < m.nlayers; i++)
			FZ_CHECK(bx_digest_valid(m.layers[i]));
	} else {
		FZ_CHECK_ERR(err);
	}
	bx_manifest_free(&m);

	(void)bx_manifest_is_index(json, size);

	struct bx_platform p;
	bx_platform_default(&p);
	char digest[72];
	long long dsize = -2;
	struct bx_err ierr = {0};
	if (bx_index_select(json, size, &p, digest, &dsize, &ierr) == 0) /* the size bounds the download */
		FZ_CHECK(bx_digest_valid(digest) && dsize > 0 && dsize <= BX_MANIFEST_MAX);
	else
		FZ_CHECK_ERR(ierr);
	return 0;
}
