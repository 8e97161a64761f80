/* POST /containers/create: Docker's Config + HostConfig + NetworkingConfig
 * body into the options the box builder takes (bx_box_make), the way the
 * docker CLI's flags become them. Pure (no I/O), unit-tested. Every field
 * boxvm cannot honour is refused (400) when it asks for something, never
 * ignored: a field is accepted unset (null, false, 0, "", [], {} or, for
 * MemorySwappiness, Docker's -1) whatever it is. */
#ifndef BOXVM_API_CREATEMAP_H
#define BOXVM_API_CREATEMAP_H

#include <jansson.h>

#include "../box/make.h"
#include "../common/err.h"

struct api_create {
	const char *image;           /* Config.Image (points into body) */
	struct bx_run_opts ro;
	struct bx_netmount nm;
	struct bx_healthopts health;
	struct bx_secopts sec;
	struct bx_resources res;     /* Memory, MemoryReservation, MemorySwap, PidsLimit, CpuShares, CpusetCpus */
	struct bx_box_lc lc;
	struct bx_box_opts bo;
	json_t *body;                /* held: the strings above point into it */
};

/* name: the ?name= of the request (NULL: generated). *c is set up even on
 * failure: api_create_free it. */
int api_create_parse(json_t *body, const char *name, struct api_create *c, struct bx_err *err);
void api_create_free(struct api_create *c);

#endif
