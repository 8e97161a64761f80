/* Whether boxvm's host processes log their debugging detail (BOXVM_DEBUG). */
#ifndef BOXVM_COMMON_DEBUG_H
#define BOXVM_COMMON_DEBUG_H

#include <stdbool.h>

/* BOXVM_DEBUG set to anything but "" or "0" */
bool bx_debug_enabled(void);

#endif
