/* --format templates (inspect, ps, stats). The input is the template, then
 * optionally a NUL byte and a JSON value to render it against (a box-like
 * object when absent or not JSON). A template that passes the check must
 * render. */
#include "cli/template.h"
#include "fuzz.h"

static const char default_obj[] =
	"{\"Id\":\"0123456789ab\",\"Name\":\"web\",\"Config\":{\"Image\":\"busybox\",\"Env\":[\"A=1\"],"
	"\"Labels\":{\"a.b\":\"c\"}},\"State\":{\"Status\":\"running\",\"Pid\":42},\"Ports\":null}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *fmt = fz_cstr(data, size);
	size_t flen = strlen(fmt);
	json_t *obj = NULL;
	if (flen < size)
		obj = json_loadb((const char *)data + flen + 1, size - flen - 1, JSON_DECODE_ANY, NULL);
	if (!obj)
		obj = json_loads(default_obj, 0, NULL);
	FZ_CHECK(obj);

	struct bx_err err = {0};
	int checked = bx_template_check(fmt, &err);
	if (checked < 0)
		FZ_CHECK_ERR(err);
	char *out = NULL;
	struct bx_err rerr = {0};
	int rendered = bx_template_render(fmt, obj, &out, &rerr);
	FZ_CHECK(rendered == checked);
	if (rendered == 0) {
		FZ_CHECK(out);
		free(out);
	} else {
		FZ_CHECK_ERR(rerr);
	}
	json_decref(obj);
	free(fmt);
	return 0;
}
