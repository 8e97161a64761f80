/* The top documents of an archive given to `boxvm load`: an OCI layout's
 * index.json and a `docker save` manifest.json, read against an archive that
 * holds nothing else (so every reference ends in a clean "missing" error; the
 * manifests and configs they lead to are fuzz_manifest's and
 * fuzz_image_config's). Nothing is written: a load with no blobs commits none. */
#include "fuzz.h"
#include "image/image.h"

static void load_reset(struct bx_load *l)
{
	bx_strv_free(l->names);
	bx_strv_free(l->targets);
	for (size_t i = 0; i < l->nfiles; i++) {
		free(l->files[i].name);
		free(l->files[i].link);
	}
	free(l->files);
	free(l->commit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct bx_paths paths = {.data = "/nonexistent/boxvm-fuzz"};
	for (int docker = 0; docker < 2; docker++) {
		struct bx_load l = {.p = &paths, .path = "image.tar", .archive = "image.tar"};
		struct bx_err err = {0};
		int rc = docker ? bx_load_docker(&l, (const char *)data, size, &err)
				: bx_load_oci(&l, (const char *)data, size, &err);
		if (rc != 0)
			FZ_CHECK_ERR(err);
		/* with no blobs in the archive nothing can be named or queued */
		FZ_CHECK(rc != 0 && l.nnames == 0 && l.ncommit == 0);
		load_reset(&l);
	}
	return 0;
}
