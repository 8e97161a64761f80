/* Registry HTTP API v2 over libcurl. One CURL handle per registry session,
 * reused for every request (keep-alive). A 401 is answered once: the
 * WWW-Authenticate challenge is followed (Bearer: a token from the realm,
 * anonymous or with stored credentials; Basic: the stored credentials) and
 * the request repeated; a second 401 is the user's problem to fix. Secrets
 * only ever travel in request headers: they are never logged or printed. */
#include "registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../image.h"
#include "http.h"

#define ERRBODY_MAX 4096
/* every header of one exchange together: a registry sends a few hundred bytes a response */
#define HEADERS_MAX (64 * 1024)

struct response {
	long code;
	char www_auth[2048];
	char content_type[128];
	char location[2048];
	char digest[128];        /* Docker-Content-Digest */
	bool location_too_long;
	size_t header_bytes;     /* of this exchange (redirects, 1xx included); over HEADERS_MAX aborts */
	bool headers_too_big;
	bool strict;             /* a body over max aborts whatever the status (push answers) */
	/* small bodies (manifests, tokens, errors) are collected here */
	char *buf;
	size_t len, max;
	bool too_big;
	/* blob bodies go to the sink instead, only for a 200/206 */
	bx_blob_sink sink;
	void *sink_ctx;
	long long offset;   /* the byte a ranged request asked to start from */
	bool sink_started;
	struct bx_err *sink_err;
	bool sink_failed;
	CURL *curl;
};

static size_t on_header(char *data, size_t size, size_t n, void *vr)
{
	struct response *r = vr;
	size_t len = size * n;
	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		/* a new response (after a redirect or 100-continue): forget the last one's headers */
		r->www_auth[0] = r->content_type[0] = r->location[0] = r->digest[0] = '\0';
		r->location_too_long = false;
	}
	/* a hostile registry's endless headers end the transfer (curl bounds one line only) */
	r->header_bytes += len;
	if (r->header_bytes > HEADERS_MAX) {
		r->headers_too_big = true;
		return 0;
	}
	if (len >= 5 && !strncmp(data, "HTTP/", 5))
		return len;
	const char *colon = memchr(data, ':', len);
	if (!colon)
		return len;
	size_t kl = (size_t)(colon - data);
	const char *v = colon + 1;
	size_t vl = len - kl - 1;
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	if (kl == 16 && !strncasecmp(data, "WWW-Authenticate", 16) && !r->www_auth[0])
		snprintf(r->www_auth, sizeof(r->www_auth), "%.*s", (int)vl, v);
	else if (kl == 12 && !strncasecmp(data, "Content-Type", 12)) {
		size_t l = strcspn(v, ";\r\n");
		snprintf(r->content_type, sizeof(r->content_type), "%.*s", (int)(l < vl ? l : vl), v);
	} else if (kl == 8 && !strncasecmp(data, "Location", 8)) {
		r->location_too_long = vl >= sizeof(r->location);
		snprintf(r->location, sizeof(r->location), "%.*s", r->location_too_long ? 0 : (int)vl, v);
	} else if (kl == 21 && !strncasecmp(data, "Docker-Content-Digest", 21)) {
		snprintf(r->digest, sizeof(r->digest), "%.*s", (int)(vl < sizeof(r->digest) ? vl : 0), v);
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *vr)
{
	struct response *r = vr;
	size_t len = size * n;
	long code = 0;
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &code);
	if (r->sink && (code == 200 || code == 206)) {
		/* a 200 to a ranged request is the whole blob: tell the sink to start over */
		bool restart = !r->sink_started && code == 200 && r->offset > 0;
		r->sink_started = true;
		if ((restart && r->sink(r->sink_ctx, NULL, 0, r->sink_err) < 0) ||
		    r->sink(r->sink_ctx, data, len, r->sink_err) < 0) {
			r->sink_failed = true;
			return 0; /* aborts the transfer */
		}
		return len;
	}
	size_t max = (r->sink || (code != 200 && code != 206)) ? ERRBODY_MAX : r->max;
	if (r->len + len > max) {
		r->too_big = true;
		if (r->strict)
			return 0;
		if (r->sink || code != 200)
			return len; /* an error body is only for the message: drop the excess */
		return 0;
	}
	char *nb = realloc(r->buf, r->len + len + 1);
	if (!nb)
		return 0;
	r->buf = nb;
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	r->buf[r->len] = '\0';
	return len;
}

static void response_reset(struct response *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = 0;
	r->too_big = false;
	r->code = 0;
	r->www_auth[0] = r->content_type[0] = r->location[0] = r->digest[0] = '\0';
	r->location_too_long = r->headers_too_big = false;
	r->header_bytes = 0;
}

/* "CODE: message" of the first error in a registry error body, else "". */
static void registry_error(const struct response *rs, char *out, size_t size)
{
	out[0] = '\0';
	json_t *root = rs->buf ? json_loadb(rs->buf, rs->len, 0, NULL) : NULL;
	json_t *e0 = json_array_get(json_object_get(root, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));
	if (code || msg)
		snprintf(out, size, "%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
	for (char *c = out; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	json_decref(root);
}

static bool insecure_listed(const char *domain)
{
	return bx_registry_insecure_listed(domain, getenv("BOXVM_INSECURE_REGISTRIES"));
}

int bx_registry_open(struct bx_registry *r, const struct bx_paths *p, const struct bx_ref *ref, struct bx_err *err)
{
	memset(r, 0, sizeof(*r));
	r->ref = *ref;
	const char *host = bx_ref_api_host(ref);
	bool plain = bx_ref_host_is_loopback(ref->domain) || insecure_listed(ref->domain);
	if (bx_path_join(r->base, sizeof(r->base), err, "%s://%s/v2/%s", plain ? "http" : "https", host, ref->path) < 0)
		return -1;
	int found = bx_creds_get(p, ref->domain, &r->creds, err);
	if (found < 0)
		return -1;
	r->have_creds = found > 0;
	/* blobs are often served from a redirect: followed (http.h) */
	CURL *c = bx_http_handle(plain ? "http,https" : "https", 10L, err);
	if (!c)
		return -1;
	r->curl = c;
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	return 0;
}

void bx_registry_close(struct bx_registry *r)
{
	if (r->curl)
		curl_easy_cleanup(r->curl);
	r->curl = NULL;
	explicit_bzero(&r->creds, sizeof(r->creds));
	explicit_bzero(r->auth_header, sizeof(r->auth_header));
}

/* The request body of a PUT: a buffer or a file, read from its start on
 * every attempt (a 401 repeats the request). */
struct upload {
	const struct bx_registry_body *b;
	long long off;
	bool aborted;
};

static size_t on_read(char *buf, size_t size, size_t n, void *vu)
{
	struct upload *u = vu;
	const struct bx_registry_body *b = u->b;
	long long total = b->fd >= 0 ? b->size : (long long)b->len;
	size_t want = size * n;
	if ((long long)want > total - u->off)
		want = (size_t)(total - u->off);
	if (!want)
		return 0;
	if (b->cancelled && b->cancelled(b->ctx)) {
		u->aborted = true;
		return CURL_READFUNC_ABORT;
	}
	if (b->fd >= 0) {
		ssize_t got;
		while ((got = pread(b->fd, buf, want, u->off)) < 0 && errno == EINTR)
			;
		if (got <= 0) {
			u->aborted = true;
			return CURL_READFUNC_ABORT; /* the blob shrank under us */
		}
		want = (size_t)got;
	} else {
		memcpy(buf, (const char *)b->buf + u->off, want);
	}
	u->off += (long long)want;
	if (b->progress)
		b->progress(b->ctx, u->off, total);
	return want;
}

/* One HTTP exchange. method: "GET" (redirects followed), "HEAD" (likewise),
 * "POST" (empty body) or "PUT" (body); POST and PUT follow no redirect. */
static int perform(struct bx_registry *r, const char *method, const char *url, const char *accept, const char *range,
		   const struct bx_registry_body *body, struct response *rs, struct bx_err *err)
{
	CURL *c = r->curl;
	struct curl_slist *h = NULL;
	char line[256];
	if (accept) {
		snprintf(line, sizeof(line), "Accept: %s", accept);
		h = curl_slist_append(h, line);
	}
	if (r->auth_header[0])
		h = curl_slist_append(h, r->auth_header);
	bool put = !strcmp(method, "PUT"), post = !strcmp(method, "POST"), head = !strcmp(method, "HEAD");
	struct upload up = {.b = body};
	if (put && body) {
		snprintf(line, sizeof(line), "Content-Type: %s", body->content_type ? body->content_type : "application/octet-stream");
		h = curl_slist_append(h, line);
		h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(body->fd >= 0 ? body->size : (long long)body->len));
	} else if (put) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	} else if (post) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (head) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	if (put || post)
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	rs->curl = c;
	rs->header_bytes = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_RANGE, range);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rs);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rs);
	char ebuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	CURLcode cc = curl_easy_perform(c);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	/* back to a plain GET for the handle's next request */
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_READDATA, NULL);
	curl_slist_free_all(h);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->code);
	if (rs->sink_failed)
		return -1; /* the sink's own error is in *err */
	if (up.aborted)
		return bx_fail(err, ECANCELED, body->cancelled && body->cancelled(body->ctx) ? "the push was cancelled"
										      : "the blob being uploaded changed size while it was read");
	if (rs->headers_too_big)
		return bx_fail(err, 0, "registry %s sent over %d bytes of response headers; refusing the answer", r->ref.domain,
			       HEADERS_MAX);
	if (cc == CURLE_WRITE_ERROR && rs->too_big && rs->strict)
		return bx_fail(err, 0, "registry %s sent a body of over %d bytes in answer to a %s, where a few are expected; refusing it",
			       r->ref.domain, ERRBODY_MAX, method);
	if (cc == CURLE_WRITE_ERROR && rs->too_big)
		return bx_fail(err, 0, "registry %s sent an answer too large to be a manifest or token (over %zu bytes); refusing it",
			       r->ref.domain, rs->max);
	if (cc != CURLE_OK) {
		const char *why = ebuf[0] ? ebuf : curl_easy_strerror(cc);
		if (cc == CURLE_SSL_CONNECT_ERROR && !strncmp(url, "https:", 6))
			return bx_fail(err, 0, "cannot reach registry %s over HTTPS (%s); if it only speaks plain HTTP, list it in BOXVM_INSECURE_REGISTRIES",
				       r->ref.domain, why);
		return bx_fail(err, 0, "cannot reach registry %s: %s", r->ref.domain, why);
	}
	return 0;
}

static int fetch_token(struct bx_registry *r, const struct bx_auth_challenge *ch, struct bx_err *err)
{
	CURL *c = r->curl;
	char scope[600], scope2[600] = "";
	snprintf(scope, sizeof(scope), "%s", ch->scope[0] ? ch->scope : "");
	if (r->push) {
		/* a push asks for what it needs, whatever the challenge named (Docker does too):
		 * pull and push here, pull where a blob is mounted from */
		if (bx_registry_scope(r->ref.path, true, scope, sizeof(scope), err) < 0 ||
		    (r->mount_from[0] && bx_registry_scope(r->mount_from, false, scope2, sizeof(scope2), err) < 0))
			return -1;
	} else if (!scope[0] && r->ref.path[0]) {
		snprintf(scope, sizeof(scope), "repository:%s:pull", r->ref.path);
	}
	char *es = curl_easy_escape(c, scope, 0), *es2 = curl_easy_escape(c, scope2, 0),
	     *ev = curl_easy_escape(c, ch->service, 0);
	char url[2900];
	int n = snprintf(url, sizeof(url), "%s%sservice=%s%s%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
			 ev ? ev : "", scope[0] ? "&scope=" : "", es ? es : "", scope2[0] ? "&scope=" : "", es2 ? es2 : "");
	curl_free(es);
	curl_free(es2);
	curl_free(ev);
	if (n < 0 || (size_t)n >= sizeof(url))
		return bx_fail(err, 0, "the registry's token realm URL is too long");
	if (strncmp(ch->realm, "https://", 8) != 0 && strncmp(ch->realm, "http://", 7) != 0)
		return bx_fail(err, 0, "the registry's token realm '%.200s' is not an http(s) URL", ch->realm);
	struct response rs = {.max = 1 << 20};
	r->auth_header[0] = '\0';
	/* a realm over plain HTTP elsewhere gets an anonymous request, never the secret */
	bool withheld = r->have_creds && !bx_realm_may_get_credentials(ch->realm, getenv("BOXVM_INSECURE_REGISTRIES"));
	if (r->have_creds && !withheld) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, r->creds.user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, r->creds.secret);
	}
	int rc = perform(r, "GET", url, "application/json", NULL, NULL, &rs, err);
	curl_easy_setopt(c, CURLOPT_USERNAME, NULL);
	curl_easy_setopt(c, CURLOPT_PASSWORD, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_NONE);
	if (rc < 0) {
		response_reset(&rs);
		return bx_wrap(err, "token server");
	}
	if (rs.code == 401 || rs.code == 403) {
		response_reset(&rs);
		if (withheld)
			return bx_fail(err, 0, "unauthorized: the token server of %s is plain HTTP (%.200s), so the stored credentials were not sent; use an HTTPS realm or list its host in BOXVM_INSECURE_REGISTRIES",
				       r->ref.domain, ch->realm);
		/* a push says Docker's words first */
		return bx_fail(err, 0, r->have_creds ? "unauthorized: %sthe token server for %s refused the stored credentials; log in again with 'boxvm login %s'"
						     : "unauthorized: %sthe token server for %s requires credentials; log in with 'boxvm login %s'",
			       r->push ? "authentication required: " : "", r->ref.domain, r->ref.domain);
	}
	json_t *root = rs.code == 200 && rs.buf ? json_loadb(rs.buf, rs.len, 0, NULL) : NULL;
	const char *tok = json_string_value(json_object_get(root, "token"));
	if (!tok)
		tok = json_string_value(json_object_get(root, "access_token"));
	if (!tok || !*tok) {
		long code = rs.code;
		json_decref(root);
		response_reset(&rs);
		return bx_fail(err, 0, "the token server for %s answered HTTP %ld without a token", r->ref.domain, code);
	}
	n = snprintf(r->auth_header, sizeof(r->auth_header), "Authorization: Bearer %s", tok);
	json_decref(root);
	explicit_bzero(rs.buf, rs.len);
	response_reset(&rs);
	if (n < 0 || (size_t)n >= sizeof(r->auth_header)) {
		r->auth_header[0] = '\0';
		return bx_fail(err, 0, "the token from %s's token server is too long", r->ref.domain);
	}
	return 0;
}

static int basic_header(struct bx_registry *r, struct bx_err *err)
{
	char plain[1300];
	int n = snprintf(plain, sizeof(plain), "%s:%s", r->creds.user, r->creds.secret);
	if (n < 0 || (size_t)n >= sizeof(plain))
		return bx_fail(err, 0, "stored credentials are too long");
	char b64[1800];
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (int i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)plain[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)plain[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)plain[i + 2];
		b64[o++] = tbl[(v >> 18) & 63];
		b64[o++] = tbl[(v >> 12) & 63];
		b64[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		b64[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	b64[o] = '\0';
	snprintf(r->auth_header, sizeof(r->auth_header), "Authorization: Basic %s", b64);
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(b64, sizeof(b64));
	return 0;
}

/* Perform, answering one 401 challenge. */
static int request_as(struct bx_registry *r, const char *method, const char *url, const char *accept,
		      const char *range, const struct bx_registry_body *body, struct response *rs, struct bx_err *err)
{
	bool basic = false;
	for (int attempt = 0;; attempt++) {
		if (perform(r, method, url, accept, range, body, rs, err) < 0)
			return -1;
		if (rs->code != 401)
			return 0;
		if (attempt > 0) /* the credentials we just obtained were not enough */
			break;
		struct bx_auth_challenge ch;
		if (bx_auth_challenge_parse(rs->www_auth[0] ? rs->www_auth : NULL, &ch, err) < 0)
			return -1;
		if (!strcasecmp(ch.scheme, "Bearer")) {
			if (fetch_token(r, &ch, err) < 0)
				return -1;
		} else if (!strcasecmp(ch.scheme, "Basic")) {
			basic = true;
			if (!r->have_creds)
				break;
			if (basic_header(r, err) < 0)
				return -1;
		} else {
			return bx_fail(err, 0, "registry %s asks for unsupported authentication '%s'", r->ref.domain, ch.scheme);
		}
		response_reset(rs);
	}
	if (r->push) {
		/* Docker's words first, then what to do */
		if (basic && !r->have_creds)
			return bx_fail(err, 0, "no basic auth credentials: log in with 'boxvm login %s'", r->ref.domain);
		return bx_fail(err, 0, "unauthorized: authentication required to push to %s/%s; %s", r->ref.domain,
			       r->ref.path,
			       r->have_creds ? "the stored credentials were refused (log in again with 'boxvm login')"
					     : "log in with 'boxvm login'");
	}
	char why[300];
	registry_error(rs, why, sizeof(why));
	return bx_fail(err, 0, "unauthorized: %s%sauthentication required to pull %s/%s; %s", why, why[0] ? "; " : "",
		       r->ref.domain, r->ref.path,
		       r->have_creds ? "the stored credentials were refused (log in again with 'boxvm login')"
				     : "log in with 'boxvm login'");
}

static int request(struct bx_registry *r, const char *url, const char *accept, const char *range, struct response *rs,
		   struct bx_err *err)
{
	return request_as(r, "GET", url, accept, range, NULL, rs, err);
}

int bx_registry_send(struct bx_registry *r, const char *method, const char *url, const struct bx_registry_body *body,
		     struct bx_registry_reply *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	struct response rs = {.max = ERRBODY_MAX, .strict = true};
	int rc = request_as(r, method, url, NULL, NULL, body, &rs, err);
	out->code = rs.code;
	snprintf(out->location, sizeof(out->location), "%s", rs.location);
	out->location_too_long = rs.location_too_long;
	snprintf(out->digest, sizeof(out->digest), "%s", rs.digest);
	if (rc == 0)
		registry_error(&rs, out->error, sizeof(out->error));
	response_reset(&rs);
	return rc;
}

int bx_registry_manifest(struct bx_registry *r, const char *ref, size_t max, char **body, size_t *len,
			 char media_type[128], struct bx_err *err)
{
	char url[1024];
	*body = NULL;
	if (bx_path_join(url, sizeof(url), err, "%s/manifests/%s", r->base, ref) < 0)
		return -1;
	/* every type we understand: the reference registry answers an OCI manifest
	 * with 404 unless asked for it, and rewrites a v2s2 one to schema 1 */
	static const char accept[] = BX_MT_OCI_MANIFEST ", " BX_MT_OCI_INDEX ", " BX_MT_DOCKER_MANIFEST ", " BX_MT_DOCKER_LIST;
	struct response rs = {.max = max};
	if (request(r, url, accept, NULL, &rs, err) < 0) {
		response_reset(&rs);
		return -1;
	}
	if (rs.code != 200) {
		char why[300];
		registry_error(&rs, why, sizeof(why));
		long code = rs.code;
		response_reset(&rs);
		if (code == 404)
			return bx_fail(err, 0, "manifest for %s/%s%s%s not found: %s", r->ref.domain, r->ref.path,
				       bx_digest_valid(ref) ? "@" : ":", ref, why[0] ? why : "manifest unknown");
		return bx_fail(err, 0, "registry %s answered HTTP %ld for manifest %s%s%s", r->ref.domain, code, ref,
			       why[0] ? ": " : "", why);
	}
	if (rs.too_big || !rs.buf) {
		response_reset(&rs);
		return bx_fail(err, 0, "manifest %s from %s is %s", ref, r->ref.domain, rs.too_big ? "too large" : "empty");
	}
	snprintf(media_type, 128, "%s", rs.content_type);
	*body = rs.buf;
	*len = rs.len;
	rs.buf = NULL;
	return 0;
}

int bx_registry_blob(struct bx_registry *r, const char *digest, long long offset, bx_blob_sink sink, void *ctx,
		     bool *resumed, struct bx_err *err)
{
	char url[1024], range[64];
	*resumed = false;
	if (bx_path_join(url, sizeof(url), err, "%s/blobs/%s", r->base, digest) < 0)
		return -1;
	snprintf(range, sizeof(range), "%lld-", offset);
	struct response rs = {.sink = sink, .sink_ctx = ctx, .sink_err = err, .offset = offset};
	if (request(r, url, NULL, offset > 0 ? range : NULL, &rs, err) < 0) {
		response_reset(&rs);
		return -1;
	}
	long code = rs.code;
	char why[300];
	registry_error(&rs, why, sizeof(why));
	response_reset(&rs);
	if (code == 206 && offset > 0) {
		*resumed = true;
		return 0;
	}
	if (code == 200)
		return 0;
	if (code == 416 && offset > 0)
		return bx_fail(err, 0, "registry %s refused to resume blob %s at byte %lld", r->ref.domain, digest, offset);
	if (code == 404)
		return bx_fail(err, 0, "blob %s not found in %s/%s%s%s", digest, r->ref.domain, r->ref.path, why[0] ? ": " : "",
			       why);
	return bx_fail(err, 0, "registry %s answered HTTP %ld for blob %s%s%s", r->ref.domain, code, digest,
		       why[0] ? ": " : "", why);
}

int bx_registry_ping(struct bx_registry *r, struct bx_err *err)
{
	char url[600];
	const char *scheme_end = strstr(r->base, "://");
	const char *v2 = scheme_end ? strstr(scheme_end + 3, "/v2/") : NULL;
	if (!v2)
		return bx_fail(err, 0, "internal error: bad registry URL");
	snprintf(url, sizeof(url), "%.*s/v2/", (int)(v2 - r->base), r->base);
	struct response rs = {.max = 1 << 16};
	int rc = request(r, url, "application/json", NULL, &rs, err);
	long code = rs.code;
	response_reset(&rs);
	if (rc < 0)
		return -1;
	if (code != 200)
		return bx_fail(err, 0, "registry %s answered HTTP %ld to the API check (is it a registry?)", r->ref.domain, code);
	return 0;
}
