/* The Engine API's paths: the optional /vX.Y prefix (version negotiation:
 * docker CLI 20.10 asks /_ping for API-Version and then uses min(its own,
 * ours)), and /RESOURCE/ID/ACTION. Pure, unit-tested. */
#ifndef BOXVM_API_ROUTE_H
#define BOXVM_API_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"

#define API_VERSION "1.41"     /* what boxvm serves: Docker 20.10's */
#define API_MIN_VERSION "1.12" /* the oldest Docker 20.10 still accepts */

/* A bad parameter: err's message as given, errnum EINVAL (the API's 400,
 * api_fail) with no strerror appended. Returns -1. */
int api_bad(struct bx_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* url "/v1.41/containers/json" -> *path "/containers/json"; unversioned as
 * is. A version newer than API_VERSION or older than API_MIN_VERSION, or
 * not one: -1 with Docker's message (a 400). */
int api_route_split(const char *url, const char **path, struct bx_err *err);
/* path "PREFIX/ID[/ACTION]" (PREFIX "/containers/"): true with the ID
 * (a name or ID, no '/') and the action ("" when none). */
bool api_route_match(const char *path, const char *prefix, char *id, size_t id_size, const char **action);
/* The 8-byte header of one frame of Docker's multiplexed stream (a box
 * without a terminal): stream 1 stdout, 2 stderr, then the length, big-endian. */
void api_frame_header(unsigned char hdr[8], int stream, size_t len);

#endif
