/* Storing a new image made from a layer and a config (image_create.h). */
#include "image_create.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "instr.h"
#include "layercache.h"

static void rfc3339_now(char *out, size_t size)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%09ldZ", base, ts.tv_nsec);
}

/* A small JSON document as a stored-to-be blob (temp file, digest). */
static int blob_of_json(const struct bx_paths *p, json_t *doc, struct bx_blob_writer *w, char digest[BX_DIGEST_SIZE],
			long long *size, struct bx_err *err)
{
	_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return bx_fail(err, ENOMEM, "out of memory");
	w->fd = -1;
	if (bx_blob_writer_open(p, w, err) < 0)
		return -1;
	if (bx_blob_writer_write(w, text, strlen(text), err) < 0 || bx_blob_writer_finish(w, digest, err) < 0) {
		bx_blob_writer_abort(w);
		return -1;
	}
	*size = (long long)strlen(text);
	return 0;
}

/* The parent's config document and manifest (NULL parent: a fresh base). */
static int parent_docs(const struct bx_paths *p, const struct bx_image *parent, json_t **cfg, json_t **manifest,
		       char ***diff_ids, struct bx_err *err)
{
	*cfg = *manifest = NULL;
	*diff_ids = NULL;
	if (!parent)
		return 0;
	_cleanup_free_ char *cbuf = NULL, *mbuf = NULL;
	size_t clen, mlen;
	json_error_t je;
	if (bx_blob_read(p, parent->id, BX_CONFIG_MAX, &cbuf, &clen, err) < 0 ||
	    bx_blob_read(p, parent->manifest_digest, BX_MANIFEST_MAX, &mbuf, &mlen, err) < 0)
		return -1;
	if (!(*cfg = json_loadb(cbuf, clen, 0, &je)) || !(*manifest = json_loadb(mbuf, mlen, 0, &je))) {
		json_decref(*cfg);
		*cfg = NULL;
		return bx_fail(err, 0, "image %s: unreadable config or manifest (%s)", parent->id, je.text);
	}
	if (bx_image_diff_ids(p, parent, diff_ids, err) < 0) {
		json_decref(*cfg);
		json_decref(*manifest);
		*cfg = *manifest = NULL;
		return -1;
	}
	return 0;
}

static json_t *new_config(json_t *pcfg, char **diff_ids, const struct bx_image_new *n, const char *now)
{
	json_t *c = json_object();
	json_t *arch = json_object_get(pcfg, "architecture"), *os = json_object_get(pcfg, "os");
	json_object_set_new(c, "architecture", json_is_string(arch) ? json_copy(arch) : json_string("amd64"));
	json_object_set(c, "config", n->config);
	json_object_set_new(c, "created", json_string(now));
	if (n->author && *n->author)
		json_object_set_new(c, "author", json_string(n->author));
	if (n->comment && *n->comment)
		json_object_set_new(c, "comment", json_string(n->comment));
	if (n->parent) /* Docker's local parent link (V1Image "parent"): history names it */
		json_object_set_new(c, "parent", json_string(n->parent->id));
	json_t *hist = json_array(), *phist = json_object_get(pcfg, "history");
	size_t i;
	json_t *h;
	json_array_foreach(phist, i, h) json_array_append(hist, h);
	json_t *entry = json_pack("{s:s}", "created", now);
	if (n->author && *n->author)
		json_object_set_new(entry, "author", json_string(n->author));
	json_object_set_new(entry, "created_by", json_string(n->created_by ? n->created_by : ""));
	if (n->comment && *n->comment)
		json_object_set_new(entry, "comment", json_string(n->comment));
	if (!n->layer) /* a config-only step of a build, as Docker records it */
		json_object_set_new(entry, "empty_layer", json_true());
	json_array_append_new(hist, entry);
	json_object_set_new(c, "history", hist);
	json_object_set_new(c, "os", json_is_string(os) ? json_copy(os) : json_string("linux"));
	json_t *ids = json_array();
	for (size_t k = 0; diff_ids && diff_ids[k]; k++)
		json_array_append_new(ids, json_string(diff_ids[k]));
	if (n->layer)
		json_array_append_new(ids, json_string(n->layer->diff_id));
	json_object_set_new(c, "rootfs", json_pack("{s:s,s:o}", "type", "layers", "diff_ids", ids));
	return c;
}

/* An OCI manifest: the parent's layer descriptors (Docker's gzip type said
 * the OCI way; same bytes) and the new layer. */
static json_t *new_manifest(json_t *pman, const char *cfg_digest, long long cfg_size, const struct bx_new_layer *l)
{
	json_t *layers = json_array(), *pl = json_object_get(pman, "layers");
	size_t i;
	json_t *d;
	json_array_foreach(pl, i, d) {
		json_t *c = json_deep_copy(d);
		const char *mt = json_string_value(json_object_get(c, "mediaType"));
		if (mt && !strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar.gzip"))
			json_object_set_new(c, "mediaType", json_string("application/vnd.oci.image.layer.v1.tar+gzip"));
		json_array_append_new(layers, c);
	}
	if (l)
		json_array_append_new(layers, json_pack("{s:s,s:s,s:I}", "mediaType", "application/vnd.oci.image.layer.v1.tar+gzip",
						"digest", l->digest, "size", (json_int_t)l->blob.size));
	return json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:o}", "schemaVersion", 2, "mediaType",
			 "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
			 "application/vnd.oci.image.config.v1+json", "digest", cfg_digest, "size", (json_int_t)cfg_size,
			 "layers", layers);
}

static int index_add(const struct bx_paths *p, const char *name, const char *manifest, struct bx_err *err)
{
	struct bx_image_index_entry *e = NULL;
	size_t ne = 0, j;
	if (bx_image_index_read(p, &e, &ne, err) < 0)
		return -1;
	for (j = 0; j < ne && strcmp(e[j].name, name); j++)
		;
	if (j == ne) {
		struct bx_image_index_entry *ng = realloc(e, (ne + 1) * sizeof(*ng));
		if (!ng || !(ng[ne].name = strdup(name))) {
			bx_image_index_free(ng ? ng : e, ne);
			return bx_fail(err, ENOMEM, "out of memory");
		}
		ng[ne].manifest[0] = '\0';
		e = ng;
		ne++;
	}
	/* a name moves to the new image; the image it leaves stays, untagged, when
	 * that was its last name (Docker's dangling image), not collected */
	char old[BX_DIGEST_SIZE] = "";
	if (*e[j].manifest && strcmp(e[j].manifest, manifest))
		snprintf(old, sizeof(old), "%s", e[j].manifest);
	snprintf(e[j].manifest, sizeof(e[j].manifest), "%s", manifest);
	bool named = !*old;
	for (size_t k = 0; k < ne && !named; k++)
		named = !strcmp(e[k].manifest, old);
	if (!named) {
		struct bx_image_index_entry *ng = realloc(e, (ne + 1) * sizeof(*ng));
		if (!ng || asprintf(&ng[ne].name, "%s@%s", BX_UNTAGGED_REPO, old) < 0) {
			bx_image_index_free(ng ? ng : e, ne);
			return bx_fail(err, ENOMEM, "out of memory");
		}
		snprintf(ng[ne].manifest, sizeof(ng[ne].manifest), "%s", old);
		e = ng;
		ne++;
	}
	int rc = bx_image_index_write(p, e, ne, err);
	bx_image_index_free(e, ne);
	return rc;
}

int bx_image_create(const struct bx_paths *p, const struct bx_image_new *n, char id[BX_DIGEST_SIZE], struct bx_err *err)
{
	char name[512] = "";
	json_t *pcfg = NULL, *pman = NULL, *cfg = NULL, *man = NULL;
	char **diff_ids = NULL;
	struct bx_blob_writer cw = {.fd = -1}, mw = {.fd = -1};
	char cdig[BX_DIGEST_SIZE], mdig[BX_DIGEST_SIZE], now[48];
	long long csize, msize;
	bool created[3] = {false, false, false};
	int rc = -1;
	_cleanup_close_ int lock = -1;
	if (n->name && bx_image_ref_normalize(n->name, name, sizeof(name), err) < 0)
		goto out;
	if (parent_docs(p, n->parent, &pcfg, &pman, &diff_ids, err) < 0)
		goto out;
	rfc3339_now(now, sizeof(now));
	if (!(cfg = new_config(pcfg, diff_ids, n, now))) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	if (blob_of_json(p, cfg, &cw, cdig, &csize, err) < 0)
		goto out;
	if (!(man = new_manifest(pman, cdig, csize, n->layer))) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	if (blob_of_json(p, man, &mw, mdig, &msize, err) < 0)
		goto out;
	if (!*name)
		snprintf(name, sizeof(name), "%s@%s", BX_UNTAGGED_REPO, mdig);
	if ((lock = bx_image_index_lock(p, err)) < 0)
		goto out;
	if (n->layer && bx_blob_commit(p, n->layer->blob.tmp, n->layer->digest, &created[0], err) < 0)
		goto out;
	if (n->layer)
		n->layer->blob.tmp[0] = '\0';
	if (bx_blob_commit(p, cw.tmp, cdig, &created[1], err) < 0)
		goto out;
	cw.tmp[0] = '\0';
	if (bx_blob_commit(p, mw.tmp, mdig, &created[2], err) < 0)
		goto out;
	mw.tmp[0] = '\0';
	if (index_add(p, name, mdig, err) < 0)
		goto out;
	snprintf(id, BX_DIGEST_SIZE, "%s", cdig);
	rc = 0;
out:
	if (rc < 0) {
		const char *digs[3] = {n->layer ? n->layer->digest : "", cdig, mdig};
		for (int i = 0; i < 3; i++) {
			char path[PATH_MAX];
			if (created[i] && bx_blob_path(p, digs[i], path, sizeof(path), NULL) == 0)
				unlink(path);
		}
	}
	if (n->layer)
		bx_blob_writer_abort(&n->layer->blob);
	bx_blob_writer_abort(&cw);
	bx_blob_writer_abort(&mw);
	bx_strv_free(diff_ids);
	json_decref(pcfg);
	json_decref(pman);
	json_decref(cfg);
	json_decref(man);
	return rc;
}

int bx_image_import(const struct bx_paths *p, int fd, const char *repo_tag, char *const *changes, const char *comment,
		    char id[BX_DIGEST_SIZE], struct bx_err *err)
{
	/* everything the caller gave is checked before a byte is read */
	_cleanup_json_ json_t *cfg = json_object();
	if (!cfg)
		return bx_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; changes && changes[i]; i++) {
		struct bx_instr in;
		int r = bx_instr_parse(changes[i], &in, err) < 0 || bx_instr_apply_change(cfg, &in, err) < 0 ? -1 : 0;
		bx_instr_free(&in);
		if (r < 0)
			return -1;
	}
	char norm[512];
	if (repo_tag && bx_image_ref_normalize(repo_tag, norm, sizeof(norm), err) < 0)
		return -1;
	struct bx_new_layer layer;
	if (bx_layer_from_tar_fd(p, fd, &layer, err) < 0)
		return -1;
	/* Docker's client sends a file as the request body, so both say "-" */
	struct bx_image_new n = {.config = cfg, .created_by = "",
				 .comment = comment && *comment ? comment : "Imported from -", .layer = &layer,
				 .name = repo_tag};
	return bx_image_create(p, &n, id, err);
}
