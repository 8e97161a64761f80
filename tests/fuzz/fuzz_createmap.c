/* The Engine API's create body (POST /containers/create) into box options:
 * any JSON either maps or is refused with a message, and the filters of the
 * container list and of /volumes, /networks and /events likewise; nothing leaks or overflows. */
#include "api/createmap.h"
#include "api/filters.h"
#include "api/filtermap.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (body) {
		struct api_create *c = calloc(1, sizeof(*c));
		FZ_CHECK(c);
		struct bx_err err = {0};
		if (api_create_parse(body, "fuzz", c, &err) < 0)
			FZ_CHECK_ERR(err);
		else
			FZ_CHECK(c->image && *c->image);
		api_create_free(c);
		free(c);
		json_decref(body);
	}
	char *text = fz_cstr(data, size);
	struct bx_box_filters f = {0};
	struct bx_err ferr = {0};
	if (api_filters_parse(text, &f, &ferr) < 0)
		FZ_CHECK_ERR(ferr);
	bx_box_filters_free(&f);
	/* the filters of /volumes, /networks and /events */
	static const char *const keys[] = {"name", "label", "dangling", NULL};
	json_t *m = NULL;
	struct bx_err merr = {0};
	if (api_filtermap_parse(text, keys, &m, &merr) < 0) {
		FZ_CHECK_ERR(merr);
	} else {
		json_t *labels = json_pack("{s:s}", "k", "v");
		(void)api_filtermap_labels(m, labels);
		(void)api_filtermap_any(m, "name", "x", true);
		json_decref(labels);
	}
	json_decref(m);
	free(text);
	return 0;
}
