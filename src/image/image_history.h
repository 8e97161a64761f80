/* An image's history rows, newest first, as Docker's GET /images/NAME/history
 * gives them (Id, Created, CreatedBy, Tags, Size, Comment): the config's
 * history entries, sizes from the layers of those that made one; the
 * newest row is the image itself, each next one its parent's (the "parent"
 * a commit records) while that image is here, the rest "<missing>". */
#ifndef BOXVM_IMAGE_HISTORY_H
#define BOXVM_IMAGE_HISTORY_H

#include <jansson.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "image.h"

json_t *bx_image_history(const struct bx_paths *p, const struct bx_image *img, struct bx_err *err);

#endif
