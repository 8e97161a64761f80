/* What boxvm says about itself, for every front end (`boxvm info`, the
 * Engine API's /info): box and image counts, the host, the accelerator. */
#ifndef BOXVM_BOX_INFO_H
#define BOXVM_BOX_INFO_H

#include <jansson.h>

#include "../common/paths.h"

/* accel and why: bx_accel_detect's; guest_kernel: the prepared kernel's version ("" if none). */
json_t *bx_box_info_json(const struct bx_paths *p, const char *accel, const char *why, const char *guest_kernel);

#endif
