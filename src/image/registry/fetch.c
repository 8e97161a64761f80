/* ADD's downloads (fetch.h): one GET on a handle of http.h, the body
 * written to a file as it comes and bounded, the status line kept for
 * Docker's message. */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

#define HEADERS_MAX (64 * 1024) /* every header of the exchange together, redirects included */

struct download {
	int fd;
	long long bytes, max;
	bool too_big, write_failed, headers_too_big;
	int write_errno;
	size_t header_bytes;
	char reason[128]; /* the last status line's reason phrase */
};

static size_t on_header(char *data, size_t size, size_t n, void *vd)
{
	struct download *d = vd;
	size_t len = size * n;
	d->header_bytes += len;
	if (d->header_bytes > HEADERS_MAX) {
		d->headers_too_big = true;
		return 0;
	}
	if (len > 5 && !strncmp(data, "HTTP/", 5)) {
		/* "HTTP/1.1 404 Not Found\r\n": what follows the code */
		const char *sp = memchr(data, ' ', len);
		const char *rs = sp ? memchr(sp + 1, ' ', len - (size_t)(sp + 1 - data)) : NULL;
		size_t rl = rs ? len - (size_t)(rs + 1 - data) : 0;
		while (rl && (rs[rl] == '\r' || rs[rl] == '\n' || rs[rl] == '\0'))
			rl--;
		snprintf(d->reason, sizeof(d->reason), "%.*s", rs ? (int)rl : 0, rs ? rs + 1 : "");
		for (char *c = d->reason; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?'; /* one line, no terminal controls from a server */
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *vd)
{
	struct download *d = vd;
	size_t len = size * n;
	if (d->bytes + (long long)len > d->max) {
		d->too_big = true;
		return 0;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(d->fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			d->write_failed = true;
			d->write_errno = errno;
			return 0;
		}
		off += (size_t)w;
	}
	d->bytes += (long long)len;
	return len;
}

int bx_http_fetch(const char *url, int fd, long long max, struct bx_fetch_info *info, struct bx_err *err)
{
	memset(info, 0, sizeof(*info));
	/* a download may be redirected from https to http, as Docker's Go client allows */
	CURL *c = bx_http_handle("http,https", BX_FETCH_MAX_REDIRS, err);
	if (!c)
		return -1;
	struct download d = {.fd = fd, .max = max};
	char ebuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_FILETIME, 1L); /* Last-Modified */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max); /* a Content-Length over it fails first */
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &d);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	CURLcode cc = curl_easy_perform(c);
	long code = 0;
	curl_off_t when = -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_FILETIME_T, &when);
	curl_easy_cleanup(c);
	int rc = 0;
	if (d.headers_too_big)
		rc = bx_fail(err, 0, "failed to GET %s: over %d bytes of response headers", url, HEADERS_MAX);
	else if (d.too_big || cc == CURLE_FILESIZE_EXCEEDED)
		rc = bx_fail(err, EFBIG, "failed to GET %s: the file is larger than boxvm's bound of %lld bytes", url, max);
	else if (d.write_failed)
		rc = bx_fail(err, d.write_errno, "failed to GET %s: cannot write what it sent", url);
	else if (cc == CURLE_TOO_MANY_REDIRECTS)
		rc = bx_fail(err, 0, "failed to GET %s: stopped after %d redirects", url, BX_FETCH_MAX_REDIRS);
	else if (cc != CURLE_OK)
		rc = bx_fail(err, 0, "failed to GET %s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
	else if (code >= 400) /* Docker's rule: any other answer is the file */
		rc = bx_fail(err, 0, "failed to GET %s with status %ld %s", url, code, d.reason);
	if (rc < 0)
		return -1;
	info->bytes = d.bytes;
	info->mtime = when > 0 ? (long long)when : 0;
	return 0;
}
