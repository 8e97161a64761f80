/* The prune commands' --filter values (src/cli/prune_filter.c), one a line:
 * parsed, checked as container, volume and image prune check them, then
 * matched against a fixed set of labels and times. */
#include "store/prune_filter.h"
#include "fuzz.h"

static void run(char *text, unsigned allowed)
{
	struct bx_prune_filter f;
	struct bx_err err = {0};
	bx_prune_filter_init(&f);
	int rc = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save))
		rc = bx_prune_filter_add(&f, line, &err);
	if (rc == 0)
		rc = bx_prune_filter_check(&f, allowed, 1700000000000000000LL, &err);
	if (rc < 0) {
		FZ_CHECK_ERR(err);
	} else {
		FZ_CHECK(f.dangling >= -1 && f.dangling <= 1);
		FZ_CHECK(f.dangling == -1 || (allowed & BX_PRUNE_DANGLING));
		FZ_CHECK(!f.has_until || (allowed & BX_PRUNE_UNTIL));
		FZ_CHECK(!(f.labels || f.not_labels) || (allowed & BX_PRUNE_LABEL));
		json_t *labels = json_pack("{s:s,s:s,s:s}", "a", "b", "c", "", "k=x", "v");
		(void)bx_prune_labels_match(&f, labels);
		(void)bx_prune_labels_match(&f, NULL);
		(void)bx_prune_until_match(&f, 0);
		(void)bx_prune_until_match(&f, 1700000000000000000LL);
		json_decref(labels);
	}
	bx_prune_filter_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned kinds[] = {BX_PRUNE_UNTIL | BX_PRUNE_LABEL, BX_PRUNE_LABEL,
					 BX_PRUNE_UNTIL | BX_PRUNE_LABEL | BX_PRUNE_DANGLING};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		char *text = fz_cstr(data, size);
		run(text, kinds[k]);
		free(text);
	}
	return 0;
}
