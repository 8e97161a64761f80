/* A Dockerfile instruction as `commit -c` / `import -c` take it (and as a
 * Dockerfile's lines will reach the same parser), applied to a config. */
#include "image/instr.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_cstr(data, size);
	struct bx_instr in;
	struct bx_err err = {0};
	if (bx_instr_parse(text, &in, &err) < 0) {
		FZ_CHECK_ERR(err);
		free(text);
		return 0;
	}
	/* a keyword is upper case, the words are as many as counted */
	for (const char *k = in.keyword; *k; k++)
		FZ_CHECK(!(*k >= 'a' && *k <= 'z'));
	FZ_CHECK(!in.args || in.args[in.nargs] == NULL);
	json_t *cfg = json_pack("{s:[s],s:s}", "Env", "A=1", "WorkingDir", "/w");
	if (bx_instr_apply_change(cfg, &in, &err) < 0) {
		FZ_CHECK_ERR(err);
	} else {
		/* what a change leaves is a config Docker could read back */
		json_t *env = json_object_get(cfg, "Env");
		size_t i;
		json_t *v;
		json_array_foreach(env, i, v) FZ_CHECK(json_is_string(v) && strchr(json_string_value(v), '='));
		const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
		FZ_CHECK(wd && wd[0] == '/');
	}
	json_decref(cfg);
	bx_instr_free(&in);
	free(text);
	return 0;
}
