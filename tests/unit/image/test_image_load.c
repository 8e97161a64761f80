/* The image store end to end: load OCI-layout and `docker save` tars built
 * here, look images up, unpack them, and check that a bad archive leaves
 * nothing behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

static char base[64];
static struct bx_paths P;

struct member {
	const char *name;
	const char *data;
	size_t len;
	long long sparse; /* > 0: a sparse member this big, data as its last len bytes */
};

/* a tar (in memory or on disk) from name/data pairs */
static size_t make_tar(const char *path, char *mem, size_t cap, const struct member *m, size_t n)
{
	struct archive *a = archive_write_new();
	size_t used = 0;
	bool sparse = false;
	for (size_t i = 0; i < n; i++)
		sparse |= m[i].sparse > 0;
	if (sparse)
		archive_write_set_format_pax(a);
	else
		archive_write_set_format_ustar(a);
	if (path)
		assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	else
		assert_int_equal(archive_write_open_memory(a, mem, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)m[i].len);
		if (m[i].sparse > 0) {
			archive_entry_set_size(e, m[i].sparse);
			archive_entry_sparse_add_entry(e, m[i].sparse - (la_int64_t)m[i].len, (la_int64_t)m[i].len);
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		archive_write_data(a, m[i].data, m[i].len);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return used;
}

static char layer[16384], layer_digest[BX_DIGEST_SIZE];
static size_t layer_len;

static void make_layer(const char *content)
{
	struct member m[] = {{"etc/hello", content, strlen(content), 0}};
	layer_len = make_tar(NULL, layer, sizeof(layer), m, 1);
	assert_int_equal(bx_sha256_buf(layer, layer_len, layer_digest, NULL), 0);
}

static void blob_name(char *out, const char *digest)
{
	sprintf(out, "blobs/sha256/%s", digest + 7);
}

/* OCI layout tar: config (with `salt` to vary the ID), one layer, manifest, index.
 * corrupt: the layer's bytes no longer match its name. */
static void make_oci(const char *out, const char *cname, const char *refname, const char *salt, bool corrupt,
		     char config_digest[BX_DIGEST_SIZE])
{
	char config[512], manifest[1024], index[1024], md[BX_DIGEST_SIZE];
	char ln[128], cn[128], mn[128];
	snprintf(config, sizeof(config),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:01Z\",\"salt\":\"%s\","
		 "\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 salt, layer_digest);
	assert_int_equal(bx_sha256_buf(config, strlen(config), config_digest, NULL), 0);
	snprintf(manifest, sizeof(manifest),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
		 config_digest, strlen(config), layer_digest, layer_len);
	assert_int_equal(bx_sha256_buf(manifest, strlen(manifest), md, NULL), 0);
	char ann[256] = "";
	if (cname || refname)
		snprintf(ann, sizeof(ann), ",\"annotations\":{%s%s%s%s%s%s%s}", cname ? "\"io.containerd.image.name\":\"" : "",
			 cname ? cname : "", cname ? "\"" : "", cname && refname ? "," : "",
			 refname ? "\"org.opencontainers.image.ref.name\":\"" : "", refname ? refname : "",
			 refname ? "\"" : "");
	snprintf(index, sizeof(index),
		 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"digest\":\"%s\",\"size\":%zu%s}]}",
		 md, strlen(manifest), ann);
	blob_name(ln, layer_digest);
	blob_name(cn, config_digest);
	blob_name(mn, md);
	char bad[sizeof(layer)];
	memcpy(bad, layer, layer_len);
	if (corrupt)
		bad[600] ^= 1; /* inside the file's data block */
	struct member m[] = {
		{"oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30, 0},
		{"index.json", index, strlen(index), 0},
		{mn, manifest, strlen(manifest), 0},
		{cn, config, strlen(config), 0},
		{ln, bad, layer_len, 0},
	};
	make_tar(out, NULL, 0, m, 5);
}

static int count_dir(const char *rel)
{
	char p[PATH_MAX];
	bx_path_join(p, sizeof(p), NULL, "%s/%s", P.data, rel);
	DIR *d = opendir(p);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static char *index_text(void)
{
	char p[PATH_MAX];
	char *buf = NULL;
	bx_path_join(p, sizeof(p), NULL, "%s/images.json", P.data);
	if (bx_read_file(p, &buf, NULL, NULL) < 0)
		return strdup("");
	return buf;
}

static int setup(void **state)
{
	snprintf(base, sizeof(base), "/tmp/bx-img-XXXXXX");
	assert_non_null(mkdtemp(base));
	memset(&P, 0, sizeof(P));
	snprintf(P.data, sizeof(P.data), "%s/data", base);
	make_layer("hello from the layer\n");
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(bx_rm_rf(base, NULL), 0);
	return 0;
}

static char *tar_path(const char *name)
{
	static char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", base, name);
	return p;
}

static void test_oci_load_lookup_unpack(void **state)
{
	char id[BX_DIGEST_SIZE], **names = NULL;
	struct bx_err err = {0};
	make_oci(tar_path("img.tar"), "docker.io/library/busybox:latest", "latest", "a", false, id);
	if (bx_image_load_tar(&P, tar_path("img.tar"), NULL, &names, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(names[0], "busybox:latest");
	assert_null(names[1]);
	bx_strv_free(names);
	assert_int_equal(count_dir("blobs/sha256"), 3);
	assert_int_equal(count_dir("blobs/tmp"), 0);

	struct bx_image img;
	const char *refs[] = {"busybox", "busybox:latest", "docker.io/library/busybox", id, id + 7, NULL};
	char prefix[16];
	snprintf(prefix, sizeof(prefix), "%.10s", id + 7);
	for (const char **r = refs; *r; r++) {
		if (bx_image_lookup(&P, *r, &img, &err) < 0)
			fail_msg("%s: %s", *r, err.msg);
		assert_string_equal(img.id, id);
		bx_image_free(&img);
	}
	assert_int_equal(bx_image_lookup(&P, prefix, &img, &err), 0);
	assert_string_equal(img.names[0], "busybox:latest");
	assert_int_equal(img.nlayers, 1);
	assert_string_equal(img.layers[0], layer_digest);
	assert_int_equal(img.size, (long long)layer_len);
	assert_int_equal(img.created, 1704067201);
	assert_string_equal(img.config.cmd[0], "sh");

	char dest[PATH_MAX];
	snprintf(dest, sizeof(dest), "%s/rootfs", base);
	if (bx_rootfs_unpack(&P, &img, dest, &err) < 0)
		fail_msg("%s", err.msg);
	char *txt = NULL;
	snprintf(dest, sizeof(dest), "%s/rootfs/etc/hello", base);
	assert_int_equal(bx_read_file(dest, &txt, NULL, &err), 0);
	assert_string_equal(txt, "hello from the layer\n");
	free(txt);
	snprintf(dest, sizeof(dest), "%s/rootfs", base);
	assert_int_equal(bx_rootfs_unpack(&P, &img, dest, &err), -1); /* not empty any more */
	assert_non_null(strstr(err.msg, "not empty"));
	bx_image_free(&img);

	assert_int_equal(bx_image_lookup(&P, "nginx", &img, &err), -1);
	assert_string_equal(err.msg, "no such image: nginx (pull it with 'boxvm pull nginx' or load it with 'boxvm load -i FILE')");
	assert_int_equal(err.exit_code, 125);
	assert_int_equal(bx_image_lookup(&P, "0000", &img, &err), -1);

	/* re-loading the name onto another image moves it; the old one is no longer listed */
	char id2[BX_DIGEST_SIZE];
	make_layer("second image\n");
	make_oci(tar_path("img2.tar"), "busybox:latest", NULL, "b", false, id2);
	assert_int_equal(bx_image_load_tar(&P, tar_path("img2.tar"), NULL, &names, &err), 0);
	bx_strv_free(names);
	assert_int_equal(bx_image_lookup(&P, "busybox", &img, &err), 0);
	assert_string_equal(img.id, id2);
	bx_image_free(&img);
	struct bx_image *list;
	size_t n;
	assert_int_equal(bx_image_list(&P, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	bx_image_free(&list[0]);
	free(list);
}

static void test_corrupt_leaves_nothing(void **state)
{
	char id[BX_DIGEST_SIZE], **names = NULL;
	struct bx_err err = {0};
	/* a good image first, so the store and index already exist */
	make_oci(tar_path("good.tar"), "good:1", NULL, "g", false, id);
	assert_int_equal(bx_image_load_tar(&P, tar_path("good.tar"), NULL, &names, &err), 0);
	bx_strv_free(names);
	int blobs = count_dir("blobs/sha256");
	char *before = index_text();

	make_layer("another layer entirely\n");
	make_oci(tar_path("bad.tar"), "bad:1", NULL, "x", true, id);
	assert_int_equal(bx_image_load_tar(&P, tar_path("bad.tar"), NULL, &names, &err), -1);
	assert_null(names);
	char want[PATH_MAX + 200];
	snprintf(want, sizeof(want), "blob %s in %s does not match its digest", layer_digest, tar_path("bad.tar"));
	if (!strstr(err.msg, want))
		fail_msg("message: %s", err.msg);
	assert_int_equal(count_dir("blobs/sha256"), blobs);
	assert_int_equal(count_dir("blobs/tmp"), 0);
	char *after = index_text();
	assert_string_equal(before, after);
	free(before);
	free(after);
	struct bx_image img;
	assert_int_equal(bx_image_lookup(&P, "bad:1", &img, &err), -1);
}

static void test_bad_archives(void **state)
{
	char id[BX_DIGEST_SIZE], **names = NULL;
	struct bx_err err = {0};
	struct member junk[] = {{"hello.txt", "hi", 2, 0}};
	make_tar(tar_path("busybox.tar"), NULL, 0, junk, 1);
	assert_int_equal(bx_image_load_tar(&P, tar_path("busybox.tar"), NULL, &names, &err), -1);
	assert_non_null(strstr(err.msg, "busybox.tar is not an image archive: no index.json or manifest.json"));

	make_oci(tar_path("tagonly.tar"), NULL, "latest", "t", false, id);
	assert_int_equal(bx_image_load_tar(&P, tar_path("tagonly.tar"), NULL, &names, &err), -1);
	assert_non_null(strstr(err.msg, "only the tag 'latest'"));
	assert_int_equal(count_dir("blobs/sha256"), 0);
	assert_int_equal(count_dir("blobs/tmp"), 0);

	/* the full reference in ref.name alone is enough */
	make_oci(tar_path("refname.tar"), NULL, "example.com/app:2", "r", false, id);
	assert_int_equal(bx_image_load_tar(&P, tar_path("refname.tar"), NULL, &names, &err), 0);
	assert_string_equal(names[0], "example.com/app:2");
	bx_strv_free(names);

	assert_int_equal(bx_image_load_tar(&P, tar_path("absent.tar"), NULL, &names, &err), -1);
	assert_non_null(strstr(err.msg, "absent.tar"));
}

/* `docker save` layout: <id>.json config, <layer-id>/layer.tar, manifest.json */
static void make_docker(const char *out, const char *diff_id, char config_digest[BX_DIGEST_SIZE])
{
	char config[512], manifest[512], cname[80];
	snprintf(config, sizeof(config),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Entrypoint\":[\"/bin/app\"],"
		 "\"WorkingDir\":\"/srv\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 diff_id);
	assert_int_equal(bx_sha256_buf(config, strlen(config), config_digest, NULL), 0);
	snprintf(cname, sizeof(cname), "%s.json", config_digest + 7);
	snprintf(manifest, sizeof(manifest),
		 "[{\"Config\":\"%s\",\"RepoTags\":[\"app:v1\",\"app:latest\"],\"Layers\":[\"0123abcd/layer.tar\"]}]",
		 cname);
	struct member m[] = {
		{cname, config, strlen(config), 0},
		{"0123abcd/layer.tar", layer, layer_len, 0},
		{"manifest.json", manifest, strlen(manifest), 0},
	};
	make_tar(out, NULL, 0, m, 3);
}

static void test_docker_save(void **state)
{
	char id[BX_DIGEST_SIZE], **names = NULL;
	struct bx_err err = {0};
	make_docker(tar_path("docker.tar"), layer_digest, id);
	if (bx_image_load_tar(&P, tar_path("docker.tar"), NULL, &names, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(names[0], "app:v1");
	assert_string_equal(names[1], "app:latest");
	bx_strv_free(names);
	struct bx_image img;
	assert_int_equal(bx_image_lookup(&P, "app", &img, &err), 0);
	assert_string_equal(img.id, id);
	assert_string_equal(img.config.entrypoint[0], "/bin/app");
	assert_string_equal(img.config.workdir, "/srv");
	assert_string_equal(img.layers[0], layer_digest);
	assert_null(img.names[2]);
	char dest[PATH_MAX];
	snprintf(dest, sizeof(dest), "%s/rootfs", base);
	assert_int_equal(bx_rootfs_unpack(&P, &img, dest, &err), 0);
	bx_image_free(&img);

	/* a layer that does not match the config's diff_id is refused */
	int blobs = count_dir("blobs/sha256");
	make_docker(tar_path("docker-bad.tar"),
		    "sha256:0000000000000000000000000000000000000000000000000000000000000000", id);
	assert_int_equal(bx_image_load_tar(&P, tar_path("docker-bad.tar"), NULL, &names, &err), -1);
	assert_non_null(strstr(err.msg, "does not match its diff_id"));
	assert_int_equal(count_dir("blobs/sha256"), blobs);
	assert_int_equal(count_dir("blobs/tmp"), 0);
}

/* An OCI layout tar with one image: its manifest is given as JSON with %s for
 * the config digest, config size, layer digest, layer size; extra members follow. */
static void make_oci_custom(const char *out, const char *manifest_fmt, long long config_size, const char *config,
			    const struct member *extra, size_t nextra)
{
	char manifest[2048], index[1024], md[BX_DIGEST_SIZE], cd[BX_DIGEST_SIZE], ln[128], cn[128], mn[128];
	assert_int_equal(bx_sha256_buf(config, strlen(config), cd, NULL), 0);
	snprintf(manifest, sizeof(manifest), manifest_fmt, cd, config_size, layer_digest, (long long)layer_len);
	assert_int_equal(bx_sha256_buf(manifest, strlen(manifest), md, NULL), 0);
	snprintf(index, sizeof(index),
		 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"io.containerd.image.name\":\"crafted:1\"}}]}",
		 md, strlen(manifest));
	blob_name(ln, layer_digest);
	blob_name(cn, cd);
	blob_name(mn, md);
	struct member m[8] = {
		{"index.json", index, strlen(index), 0}, {mn, manifest, strlen(manifest), 0},
		{cn, config, strlen(config), 0},        {ln, layer, layer_len, 0},
	};
	for (size_t i = 0; i < nextra; i++)
		m[4 + i] = extra[i];
	make_tar(out, NULL, 0, m, 4 + nextra);
}

#define MANIFEST_FMT                                                                                                \
	"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\","  \
	"\"size\":%lld},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\","    \
	"\"size\":%lld}]}"

static const char simple_config[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}";

/* A member nothing references is never copied: under a 16 MiB file-size limit
 * a 1 TiB sparse member beside a good image loads fine. */
static void test_unreferenced_sparse_member_not_written(void **state)
{
	char **names = NULL;
	struct bx_err err = {0};
	struct member bomb[] = {
		{"blobs/sha256/0000000000000000000000000000000000000000000000000000000000000000", "x", 1, 1LL << 40},
		{"junk/big", "y", 1, 1LL << 40},
	};
	make_oci_custom(tar_path("bomb.tar"), MANIFEST_FMT, (long long)strlen(simple_config), simple_config, bomb, 2);
	struct rlimit old, lim = {16 << 20, 16 << 20};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc = bx_image_load_tar(&P, tar_path("bomb.tar"), NULL, &names, &err);
	lim.rlim_cur = old.rlim_cur; /* the hard limit stays lowered: only the soft one is ours to restore */
	setrlimit(RLIMIT_FSIZE, &lim);
	if (rc < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(names[0], "crafted:1");
	bx_strv_free(names);
	assert_int_equal(count_dir("blobs/sha256"), 3);
	assert_int_equal(count_dir("blobs/tmp"), 0);
}

static void expect_load_error(const char *tar, const char *needle)
{
	char **names = NULL;
	struct bx_err err = {0};
	assert_int_equal(bx_image_load_tar(&P, tar_path(tar), NULL, &names, &err), -1);
	assert_null(names);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(count_dir("blobs/sha256"), 0);
	assert_int_equal(count_dir("blobs/tmp"), 0);
}

static void test_crafted_limits(void **state)
{
	/* a descriptor without a size */
	make_oci_custom(tar_path("nosize.tar"),
			"{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":%lld},\"layers\":[{\"digest\":\"%s\"}]}",
			(long long)strlen(simple_config), simple_config, NULL, 0);
	expect_load_error("nosize.tar", "has no size");
	/* a config bigger than 8 MiB is refused before it is copied (the member is sparse) */
	char cd[BX_DIGEST_SIZE], cn[128];
	assert_int_equal(bx_sha256_buf("z", 1, cd, NULL), 0);
	make_oci_custom(tar_path("hugeconfig.tar"), MANIFEST_FMT, 9LL << 20, simple_config, NULL, 0);
	expect_load_error("hugeconfig.tar", "more than the 8388608 accepted");
	(void)cn;
	/* a huge index.json (sparse) is refused by its header */
	struct member big_index[] = {{"index.json", "}", 1, 5LL << 20}};
	make_tar(tar_path("bigindex.tar"), NULL, 0, big_index, 1);
	expect_load_error("bigindex.tar", "too large");
	/* a layer over BOXVM_MAX_LAYER_SIZE */
	setenv("BOXVM_MAX_LAYER_SIZE", "1k", 1);
	make_oci_custom(tar_path("biglayer.tar"), MANIFEST_FMT, (long long)strlen(simple_config), simple_config, NULL, 0);
	expect_load_error("biglayer.tar", "more than the 1024 accepted");
	/* a docker save layer whose gzip is under the ceiling but whose tar is not */
	{
		char gz[16384], config[512], manifest[512], cname[80], cd[BX_DIGEST_SIZE], diff[BX_DIGEST_SIZE];
		size_t gz_len = 0;
		struct archive *a = archive_write_new();
		archive_write_set_format_raw(a);
		archive_write_add_filter_gzip(a);
		assert_int_equal(archive_write_open_memory(a, gz, sizeof(gz), &gz_len), ARCHIVE_OK);
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_filetype(e, AE_IFREG);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		archive_write_data(a, layer, layer_len);
		archive_entry_free(e);
		archive_write_close(a);
		archive_write_free(a);
		assert_true(gz_len < 1024 && layer_len > 1024);
		assert_int_equal(bx_sha256_buf(layer, layer_len, diff, NULL), 0);
		snprintf(config, sizeof(config), "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", diff);
		assert_int_equal(bx_sha256_buf(config, strlen(config), cd, NULL), 0);
		snprintf(cname, sizeof(cname), "%s.json", cd + 7);
		snprintf(manifest, sizeof(manifest), "[{\"Config\":\"%s\",\"RepoTags\":[\"gz:1\"],\"Layers\":[\"l/layer.tar\"]}]",
			 cname);
		struct member m[] = {{cname, config, strlen(config), 0}, {"l/layer.tar", gz, gz_len, 0},
				     {"manifest.json", manifest, strlen(manifest), 0}};
		make_tar(tar_path("gzbomb.tar"), NULL, 0, m, 3);
		expect_load_error("gzbomb.tar", "decompresses to more than 1024 bytes");
	}
	setenv("BOXVM_MAX_LAYER_SIZE", "junk", 1);
	expect_load_error("biglayer.tar", "BOXVM_MAX_LAYER_SIZE='junk' is not a size");
	unsetenv("BOXVM_MAX_LAYER_SIZE");
	long long v;
	assert_int_equal(bx_size_limit_parse("16g", &v), 0);
	assert_int_equal(v, 16LL << 30);
	assert_int_equal(bx_size_limit_parse("512MB", &v), 0);
	assert_int_equal(v, 512LL << 20);
	assert_int_equal(bx_size_limit_parse("100", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(bx_size_limit_parse("0", &v), -1);
	assert_int_equal(bx_size_limit_parse("1x", &v), -1);
	assert_int_equal(bx_size_limit_parse("99999999999t", &v), -1);
	/* strtoll's leniencies are not sizes either */
	assert_int_equal(bx_size_limit_parse(" 16g", &v), -1);
	assert_int_equal(bx_size_limit_parse("+16g", &v), -1);
	assert_int_equal(bx_size_limit_parse("-1", &v), -1);
	assert_int_equal(bx_size_limit_parse("1k ", &v), -1);
	assert_int_equal(bx_size_limit_parse("1b", &v), -1);
	assert_int_equal(bx_size_limit_parse("", &v), -1);
}

/* A name is kept in memory for every member: one longer than PATH_MAX (a
 * pax header allows a MiB, and a gzip of such headers is tiny) is refused. */
static void test_overlong_member_name(void **state)
{
	static char name[PATH_MAX + 100], target[PATH_MAX + 100];
	memset(name, 'a', sizeof(name) - 1);
	memset(target, 'b', sizeof(target) - 1);
	for (int which = 0; which < 2; which++) {
		struct archive *a = archive_write_new();
		archive_write_set_format_pax(a);
		assert_int_equal(archive_write_open_filename(a, tar_path("longname.tar")), ARCHIVE_OK);
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, which ? "l" : name);
		archive_entry_set_filetype(e, which ? AE_IFLNK : AE_IFREG);
		archive_entry_set_perm(e, 0644);
		if (which)
			archive_entry_set_symlink(e, target);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		archive_entry_free(e);
		archive_write_close(a);
		archive_write_free(a);
		expect_load_error("longname.tar", "longer than PATH_MAX");
	}
}

/* Unpacking stops at BOXVM_MAX_LAYER_SIZE with a clear error. */
static void test_layer_unpack_ceiling(void **state)
{
	char id[BX_DIGEST_SIZE], **names = NULL, dest[PATH_MAX];
	struct bx_err err = {0};
	make_oci(tar_path("img.tar"), "ceiling:1", NULL, "c", false, id);
	assert_int_equal(bx_image_load_tar(&P, tar_path("img.tar"), NULL, &names, &err), 0);
	bx_strv_free(names);
	struct bx_image img;
	assert_int_equal(bx_image_lookup(&P, "ceiling:1", &img, &err), 0);
	snprintf(dest, sizeof(dest), "%s/rootfs", base);
	setenv("BOXVM_MAX_LAYER_SIZE", "8", 1); /* "hello from the layer\n" is 21 bytes */
	assert_int_equal(bx_rootfs_unpack(&P, &img, dest, &err), -1);
	unsetenv("BOXVM_MAX_LAYER_SIZE");
	if (!strstr(err.msg, "more than 8 bytes") || !strstr(err.msg, "BOXVM_MAX_LAYER_SIZE"))
		fail_msg("message: %s", err.msg);
	bx_image_free(&img);
}

static void test_ambiguous_prefix(void **state)
{
	/* find two configs whose IDs share 4 hex digits (about 2^16 tries) */
	char id[BX_DIGEST_SIZE], first[BX_DIGEST_SIZE], salt[32], salt2[32], **names = NULL;
	struct bx_err err = {0};
	static unsigned short seen_at[65536];
	int a = -1, b = -1;
	for (int i = 1; a < 0; i++) {
		make_oci(tar_path("probe.tar"), "x:1", NULL, (snprintf(salt, sizeof(salt), "%d", i), salt), false, id);
		unsigned v = (unsigned)strtoul((char[5]){id[7], id[8], id[9], id[10], 0}, NULL, 16);
		if (seen_at[v]) {
			a = seen_at[v];
			b = i;
		} else {
			seen_at[v] = (unsigned short)i;
		}
		assert_true(i < 60000);
	}
	snprintf(salt, sizeof(salt), "%d", a);
	snprintf(salt2, sizeof(salt2), "%d", b);
	make_oci(tar_path("a.tar"), "one:1", NULL, salt, false, first);
	make_oci(tar_path("b.tar"), "two:1", NULL, salt2, false, id);
	assert_int_equal(bx_image_load_tar(&P, tar_path("a.tar"), NULL, &names, &err), 0);
	bx_strv_free(names);
	assert_int_equal(bx_image_load_tar(&P, tar_path("b.tar"), NULL, &names, &err), 0);
	bx_strv_free(names);
	struct bx_image img;
	char prefix[8];
	snprintf(prefix, sizeof(prefix), "%.4s", first + 7);
	assert_int_equal(bx_image_lookup(&P, prefix, &img, &err), -1);
	assert_non_null(strstr(err.msg, "ambiguous"));
	assert_int_equal(bx_image_lookup(&P, first + 7, &img, &err), 0);
	bx_image_free(&img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_oci_load_lookup_unpack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_archives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_docker_save, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ambiguous_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreferenced_sparse_member_not_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crafted_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_unpack_ceiling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlong_member_name, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
