/* A build's --platform (the CLI's and FROM's): boxvm builds and runs
 * linux/amd64 images only (its boxes are x86-64 microVMs), so a platform
 * naming that one is honoured and any other is a one-line error, where
 * Docker 20.10's classic builder would quietly use a local image of the
 * wrong platform. Pure. */
#ifndef BOXVM_IMAGE_BUILD_PLATFORM_H
#define BOXVM_IMAGE_BUILD_PLATFORM_H

#include "../common/err.h"

/* 0 when spec names linux/amd64 as Docker spells it ("linux/amd64",
 * "linux/x86_64", "linux", "amd64", "linux/amd64/v1", any case); -1 (err)
 * for another platform or a malformed one. */
int bx_build_platform_check(const char *spec, struct bx_err *err);

#endif
