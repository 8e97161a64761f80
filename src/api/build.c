/* POST /build: docker build's classic path (the docker CLI's default in
 * 20.10). The body is the context as a tar (any compression libarchive
 * reads), spooled by upload.c, unpacked into a private directory under
 * DATA/buildtmp with cp's rules (no "..", no absolute paths, no links out),
 * and the Dockerfile (dockerfile=, a path in the context) is read inside it
 * (symlinks resolved within the context, never out of it). bx_build runs in
 * the job's thread with t (repeatable), buildargs and labels (JSON
 * objects), nocache, q, target, platform and pull (a FROM image not here
 * is pulled, as Docker's daemon does), networkmode, extrahosts, memory,
 * memswap, cpushares and cpusetcpus (each RUN box's); its progress and its RUN steps' output become
 * Docker's {"stream":...} lines (made well-formed UTF-8), then
 * {"aux":{"ID":...}}. A failing build ends the stream with Docker's
 * errorDetail, a RUN's exit code as its code (the CLI exits with it).
 * remote= (a URL or git context) is refused. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "jobstream.h"
#include "route.h"
#include "../box/build.h"
#include "../box/build_stdin.h"
#include "../common/cleanup.h"
#include "../common/utf8fix.h"
#include "../image/registry/pull.h"
#include "../store/events.h"
#include "../image/dockerfile.h"

#define BUILD_ARGS_MAX 256 /* t, buildargs and labels entries each */

struct build_req {
	struct api_job job; /* first: the job's callbacks get it */
	struct bx_paths p;
	int body_fd;        /* the spooled context (a dup: readable for the job's life) */
	char dockerfile[PATH_MAX];
	char **tags, **args, **labels, **hosts;
	size_t ntags, nargs, nlabels, nhosts;
	char network[256];
	struct bx_resources res;
	bool nocache, quiet, pull;
	char target[256], platform[64];
	struct bx_build_stdin ctx; /* the unpacked context */
	int out_r;          /* the build's output, read by forward() */
};

/* the build's output as stream lines, as it comes */
static void *forward(void *arg)
{
	struct build_req *b = arg;
	unsigned char in[4096 + 4];
	char out[3 * sizeof(in) + 1];
	size_t have = 0;
	for (;;) {
		ssize_t n = read(b->out_r, in + have, sizeof(in) - 4 - have);
		if (n < 0 && errno == EINTR)
			continue;
		bool end = n <= 0;
		have += end ? 0 : (size_t)n;
		size_t used, len = bx_utf8_fix(in, have, end, out, &used);
		out[len] = '\0';
		if (len)
			api_job_put(&b->job, json_pack("{s:s}", "stream", out));
		memmove(in, in + used, have - used);
		have -= used;
		if (end)
			return NULL;
	}
}

/* a FROM image not here (or pull=1): fetched as the API's pull fetches,
 * without its progress lines (the step's " ---> ID" follows) */
static int pull_base(const struct bx_paths *p, const char *ref, bool quiet, struct bx_err *err)
{
	(void)quiet;
	struct bx_pull_opts o = {0};
	bx_platform_default(&o.platform);
	struct bx_pull_result res;
	if (bx_image_pull(p, ref, &o, &res, err) < 0)
		return -1;
	bx_event_emit(p->data, "image", "pull", res.name, (const char *const[]){"name", res.name, NULL}, NULL);
	return 0;
}

static void run_build(struct api_job *j)
{
	struct build_req *b = (struct build_req *)j;
	struct bx_err *err = &j->err;
	int pipefd[2] = {-1, -1};
	j->rc = -1;
	if (lseek(b->body_fd, 0, SEEK_SET) < 0) {
		bx_fail(err, errno, "cannot read the request body");
		return;
	}
	if (bx_build_stdin_open(&b->p, b->body_fd, &b->ctx, err) < 0) {
		if (!err->errnum)
			err->errnum = EINVAL; /* the client's archive: a 400 */
		return;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		bx_fail(err, errno, "cannot make a pipe");
		return;
	}
	b->out_r = pipefd[0];
	pthread_t fwd;
	if (pthread_create(&fwd, NULL, forward, b) != 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		bx_fail(err, 0, "cannot start a thread");
		return;
	}
	/* the Dockerfile is read inside the context: a symlink cannot name a host file */
	struct bx_build_opts o = {.context = b->ctx.context, .dockerfile = b->ctx.archive ? b->dockerfile : NULL,
				  .dockerfile_in_context = true, .build_args = b->args, .labels = b->labels,
				  .tags = b->tags, .no_cache = b->nocache, .quiet = b->quiet,
				  .target = b->target[0] ? b->target : NULL, .platform = b->platform[0] ? b->platform : NULL,
				  .pull = pull_base, .pull_always = b->pull,
				  .network = b->network[0] ? b->network : NULL, .add_hosts = b->hosts, .res = &b->res,
				  .to_fd = true, .out_fd = pipefd[1]};
	char id[BX_DIGEST_SIZE];
	int run_code = 0;
	o.run_code = &run_code;
	j->rc = bx_build(&b->p, &o, id, err);
	close(pipefd[1]);
	pthread_join(fwd, NULL);
	close(pipefd[0]);
	if (j->rc == 0) {
		api_job_put(j, json_pack("{s:{s:s}}", "aux", "ID", id));
		if (b->quiet) /* all Docker's daemon says to a quiet build: what the CLI prints */
			api_job_put(j, json_pack("{s:s+}", "stream", id, "\n"));
	}
	else if (run_code > 0)
		j->error_code = run_code;
}

static void build_destroy(struct api_job *j)
{
	struct build_req *b = (struct build_req *)j;
	bx_build_stdin_remove(&b->ctx);
	if (b->body_fd >= 0)
		close(b->body_fd);
	bx_strv_free(b->tags);
	bx_strv_free(b->args);
	bx_strv_free(b->labels);
	bx_strv_free(b->hosts);
	free(b);
}

static enum MHD_Result build_failed(struct api_req *r, const struct bx_err *e)
{
	return api_fail(r, e);
}

struct collect {
	struct build_req *b;
	struct bx_err *err;
	bool failed;
};

/* t=NAME[:TAG] and extrahosts=HOST:IP[,HOST:IP], repeated */
static enum MHD_Result collect_tag(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct collect *c = cls;
	if (!strcmp(key, "t") && value && *value && !c->failed) {
		if (c->b->ntags >= BUILD_ARGS_MAX || bx_strv_push(&c->b->tags, &c->b->ntags, value, c->err) < 0)
			c->failed = true;
	}
	for (const char *h = !strcmp(key, "extrahosts") && value ? value : ""; *h && !c->failed;) {
		size_t l = strcspn(h, ", ");
		char one[512];
		if (l && l < sizeof(one)) {
			snprintf(one, sizeof(one), "%.*s", (int)l, h);
			if (c->b->nhosts >= BUILD_ARGS_MAX || bx_strv_push(&c->b->hosts, &c->b->nhosts, one, c->err) < 0)
				c->failed = true;
		}
		h += l + (h[l] != '\0');
	}
	return MHD_YES;
}

/* buildargs / labels: a JSON object of strings, as "K=V" entries */
static int json_pairs(const char *text, const char *what, char ***out, size_t *n, struct bx_err *err)
{
	if (!text || !*text)
		return 0;
	_cleanup_json_ json_t *o = json_loads(text, 0, NULL);
	if (!json_is_object(o) || json_object_size(o) > BUILD_ARGS_MAX)
		return api_bad(err, "%s: a JSON object of strings (at most %d) is expected", what, BUILD_ARGS_MAX);
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		char *kv = NULL;
		/* a null build arg takes the value from the daemon's environment in Docker: here, none */
		if (json_is_null(v))
			continue;
		if (!json_is_string(v))
			return api_bad(err, "%s: the value of %s is not a string", what, k);
		if (asprintf(&kv, "%s=%s", k, json_string_value(v)) < 0)
			return bx_fail(err, ENOMEM, "out of memory");
		int r = bx_strv_push(out, n, kv, err);
		free(kv);
		if (r < 0)
			return -1;
	}
	return 0;
}

enum MHD_Result api_build(struct api_req *r)
{
	struct bx_err err = {0};
	enum MHD_Result ret;
	if (api_upload_check(r, &ret))
		return ret;
	const char *remote = api_arg(r, "remote"), *df = api_arg(r, "dockerfile");
	if (remote && *remote)
		return api_error(r, 400, "remote build contexts (%s) are not supported: send the context as a tar", remote);
	struct build_req *b = calloc(1, sizeof(*b));
	if (!b)
		return api_error(r, 500, "out of memory");
	b->job.run = run_build;
	b->job.destroy = build_destroy;
	b->p = r->p;
	b->out_r = -1;
	b->nocache = api_arg_bool(r, "nocache");
	b->quiet = api_arg_bool(r, "q");
	b->pull = api_arg_bool(r, "pull");
	const char *target = api_arg(r, "target"), *platform = api_arg(r, "platform");
	snprintf(b->target, sizeof(b->target), "%s", target ? target : "");
	snprintf(b->platform, sizeof(b->platform), "%s", platform ? platform : "");
	b->body_fd = dup(r->up_fd);
	snprintf(b->dockerfile, sizeof(b->dockerfile), "%s", df && *df ? df : "Dockerfile");
	const char *net = api_arg(r, "networkmode");
	snprintf(b->network, sizeof(b->network), "%s", net && strcmp(net, "default") && strcmp(net, "bridge") ? net : "");
	struct collect c = {.b = b, .err = &err};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_tag, &c);
	/* the RUN boxes' limits (0: not given, as Docker's client sends them) */
	static const char *const limits[][2] = {{"memory", "memory"}, {"memswap", "memory-swap"},
						{"cpushares", "cpu-shares"}, {"cpusetcpus", "cpuset-cpus"}};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]) && !c.failed; i++) {
		const char *v = api_arg(r, limits[i][0]);
		if (v && *v && strcmp(v, "0") && bx_resources_flag(&b->res, limits[i][1], v, &err) < 0) {
			err.errnum = EINVAL;
			c.failed = true;
		}
	}
	if (b->body_fd < 0)
		bx_fail(&err, errno, "cannot hold the request body");
	else if (!c.failed && json_pairs(api_arg(r, "buildargs"), "buildargs", &b->args, &b->nargs, &err) == 0 &&
		 json_pairs(api_arg(r, "labels"), "labels", &b->labels, &b->nlabels, &err) == 0)
		return api_job_stream(r, &b->job, build_failed);
	build_destroy(&b->job);
	return api_fail(r, &err);
}
