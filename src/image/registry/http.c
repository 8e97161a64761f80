/* The libcurl handle boxvm's HTTP clients share (http.h). */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void *bx_http_handle(const char *redir_protocols, long max_redirs, struct bx_err *err)
{
	/* once per process, and thread-safe: the API service pulls in several connections' threads */
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		bx_fail(err, 0, "cannot initialise libcurl");
		return NULL;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		bx_fail(err, ENOMEM, "cannot create a libcurl handle");
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_USERAGENT, "boxvm/" BOXVM_VERSION);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, max_redirs);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, redir_protocols);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer (under 1 byte/s for 60 s) fails instead of hanging forever */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	return c;
}
