/* An OCI bundle's config.json (boxvm-runtime create) and a process object
 * (boxvm-runtime exec --process): both come from the caller of the runtime,
 * e.g. containerd or podman, and map onto a box. */
#include "fuzz.h"
#include "runtime/oci_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_cstr(data, size);
	/* static: a fresh 300 KB allocation per input made this target 100 times slower
	 * (ASan maps and unmaps it); the parser clears it first anyway */
	static struct bx_oci_config config;
	struct bx_oci_config *c = &config;
	struct bx_err err = {0};
	if (bx_oci_config_parse(text, "/run/bundle", c, &err) == 0) {
		FZ_CHECK(c->root_path[0] == '/');
		FZ_CHECK(c->nmounts <= BX_OCI_MAX_MOUNTS && c->nports >= 0 && c->nports <= BX_MAX_PORTS);
		for (size_t i = 0; i < c->nmounts; i++)
			FZ_CHECK(c->mounts[i].target[0] == '/');
		bx_oci_config_free(c);
	} else {
		FZ_CHECK_ERR(err);
	}

	struct bx_spec spec;
	bx_spec_init(&spec);
	struct bx_err perr = {0};
	if (bx_oci_process_parse(text, &spec, &perr) < 0)
		FZ_CHECK_ERR(perr);
	bx_spec_free(&spec);

	(void)bx_oci_size_mb(text);
	(void)bx_oci_rlimit_parse(text);
	(void)bx_oci_signal_parse(text);
	free(text);
	return 0;
}
