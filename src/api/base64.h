/* Base64 for the Engine API's headers: X-Registry-Auth (Go's URL encoding,
 * padded or not; the standard alphabet accepted too) and
 * X-Docker-Container-Path-Stat (standard). Pure, unit-tested. */
#ifndef BOXVM_API_BASE64_H
#define BOXVM_API_BASE64_H

#include <stddef.h>

/* Decodes in (len bytes) into out (at most out_size-1 bytes, NUL added).
 * Returns the decoded length, or -1 for a character outside both
 * alphabets, a bad length or padding, or an output that does not fit. */
long api_base64_decode(const char *in, size_t len, char *out, size_t out_size);
/* Standard alphabet, padded; out needs 4*ceil(len/3)+1 bytes. Returns
 * the length written, or -1 when it does not fit. */
long api_base64_encode(const void *in, size_t len, char *out, size_t out_size);

#endif
