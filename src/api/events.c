/* GET /events: stub until the stream lands */
#include "api.h"
enum MHD_Result api_events(struct api_req *r)
{
	return api_error(r, 404, "page not found");
}
