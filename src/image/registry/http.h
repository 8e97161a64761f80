/* The libcurl handle every boxvm HTTP client starts from (the registry
 * client, ADD's downloads): libcurl initialised once per process, http and
 * https only, bounded redirects, connect and stall timeouts, no signals. */
#ifndef BOXVM_REGISTRY_HTTP_H
#define BOXVM_REGISTRY_HTTP_H

#include "../../common/err.h"

/* A CURL * (curl_easy_cleanup frees it); redirects may go to
 * redir_protocols ("https" or "http,https"). */
void *bx_http_handle(const char *redir_protocols, long max_redirs, struct bx_err *err);

#endif
