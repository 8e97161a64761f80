/* ADD's remote sources: a file fetched by the host (never by a build's VM)
 * over the registry client's libcurl setup (http.h): http and https only,
 * redirects bounded, the body bounded, the name Docker gives the file. */
#ifndef BOXVM_REGISTRY_FETCH_H
#define BOXVM_REGISTRY_FETCH_H

#include <stdbool.h>

#include "../../common/err.h"

/* the most a URL's file may hold, and redirects followed (Go's net/http's 10) */
#define BX_FETCH_MAX_BYTES (1LL << 30)
#define BX_FETCH_MAX_REDIRS 10

/* ---- pure (unit-tested) ---- */

/* Docker's isURL: "http://" or "https://" first. */
bool bx_url_is_remote(const char *s);
/* Docker's file name for a download: the last component of the URL's path,
 * percent-decoded (no query, no fragment); "" when the path ends in '/' or
 * has none. A name that is "." or "..", or holds a NUL, is refused. */
int bx_url_file_name(const char *url, char *out, size_t size, struct bx_err *err);

/* ---- network ---- */

struct bx_fetch_info {
	long long bytes;
	long long mtime; /* unix seconds of Last-Modified; 0 when there is none (Docker: the epoch) */
};
/* GET url into fd (from its current offset), at most max bytes: a larger
 * body (or a Content-Length over it) fails naming the bound; a status other
 * than 200 is Docker's "failed to GET URL with status CODE REASON". */
int bx_http_fetch(const char *url, int fd, long long max, struct bx_fetch_info *info, struct bx_err *err);

#endif
