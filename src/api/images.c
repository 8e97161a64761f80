/* /images/json and /images/NAME/json of the Engine API: not served yet
 * (a 404 the docker CLI reads as "no such image"). */
#include "api.h"

enum MHD_Result api_images(struct api_req *r, const char *name, const char *action)
{
	if (name)
		return api_error(r, 404, "No such image: %s", name);
	return api_error(r, 404, "page not found");
}
