/* /images/json and /images/NAME/json of the Engine API: the image list and
 * the object `boxvm image inspect` prints. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "../box/box_view.h"
#include "../image/image.h"

enum MHD_Result api_images(struct api_req *r, const char *name, const char *action)
{
	struct bx_err err = {0};
	if (strcmp(r->method, "GET"))
		return api_error(r, 404, "page not found");
	if (name) {
		json_t *o = bx_image_inspect_view(&r->p, name, &err);
		if (!o)
			return err.errnum == ENOENT ? api_error(r, 404, "No such image: %s", name) : api_fail(r, &err);
		return api_json(r, 200, o);
	}
	struct bx_image *imgs = NULL;
	size_t n = 0;
	if (bx_image_list(&r->p, &imgs, &n, &err) < 0)
		return api_fail(r, &err);
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(out, bx_image_list_json(&imgs[i]));
		bx_image_free(&imgs[i]);
	}
	free(imgs);
	return api_json(r, 200, out);
}
