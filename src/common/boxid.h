/* Box identity: 64 lowercase hex characters from the kernel's CSPRNG; the
 * short form is the first 12. */
#ifndef BOXVM_BOXID_H
#define BOXVM_BOXID_H

#include <stdbool.h>

#include "err.h"

#define BX_ID_LEN 64
#define BX_SHORT_ID_LEN 12

int bx_boxid_new(char out[BX_ID_LEN + 1], struct bx_err *err);
/* s is a full box ID (64 lowercase hex characters). */
bool bx_boxid_valid(const char *s);

#endif
