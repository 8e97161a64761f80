/* A Dockerfile's text (dockerfile.h): parsed, each step's flags read and its
 * text substituted, a --target's end found; a Dockerfile from a cloned
 * repository is hostile (and so is an image's ONBUILD trigger). */
#include "image/dockerfile.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bx_dockerfile df;
	struct bx_err err = {0};
	if (bx_dockerfile_parse((const char *)data, size, &df, &err) < 0) {
		FZ_CHECK_ERR(err);
		return 0;
	}
	FZ_CHECK(df.n > 0 && df.n <= BX_DOCKERFILE_MAX_STEPS);
	size_t end;
	if (bx_df_target_end(&df, "b", &end, &err) < 0)
		FZ_CHECK_ERR(err);
	else
		FZ_CHECK(end > 0 && end <= df.n);
	char *vars[] = {"A=1", "B=x y"};
	for (size_t i = 0; i < df.n; i++) {
		FZ_CHECK(df.steps[i].line >= 1);
		char v[256];
		if (bx_df_flag(&df.steps[i], "chown", v, sizeof(v), &err) < 0)
			FZ_CHECK_ERR(err);
		char *out = NULL;
		if (bx_df_expand(df.steps[i].in.rest, df.escape, vars, 2, &out, &err) < 0)
			FZ_CHECK_ERR(err);
		else
			FZ_CHECK(strlen(out) <= BX_INSTR_MAX);
		free(out);
	}
	bx_dockerfile_free(&df);
	return 0;
}
