/* The guest initramfs: a cached base archive (agent + modules) per
 * (agent binary, kernel version, module list), and a per-box copy with the
 * box's spec appended as a second cpio archive (the kernel unpacks
 * concatenated archives in order). */
#include "../common/cleanup.h"
#include "kernel.h"
#include "../proto/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- SHA-256 (FIPS 180-4), only to name cache entries ---- */

struct sha256 {
	uint32_t h[8];
	uint8_t blk[64];
	size_t blen;
	uint64_t total;
};

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(struct sha256 *s, const uint8_t *p)
{
	uint32_t w[64], a[8];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(a, s->h, sizeof(a));
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = a[7] + (ROR(a[4], 6) ^ ROR(a[4], 11) ^ ROR(a[4], 25)) + ((a[4] & a[5]) ^ (~a[4] & a[6])) +
			      K256[i] + w[i];
		uint32_t t2 = (ROR(a[0], 2) ^ ROR(a[0], 13) ^ ROR(a[0], 22)) + ((a[0] & a[1]) ^ (a[0] & a[2]) ^ (a[1] & a[2]));
		memmove(a + 1, a, 7 * sizeof(uint32_t));
		a[4] += t1;
		a[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		s->h[i] += a[i];
}

static void sha_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, iv, sizeof(iv));
	s->blen = 0;
	s->total = 0;
}

static void sha_update(struct sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	s->total += len;
	while (len) {
		size_t take = 64 - s->blen < len ? 64 - s->blen : len;
		memcpy(s->blk + s->blen, p, take);
		s->blen += take;
		p += take;
		len -= take;
		if (s->blen == 64) {
			sha_block(s, s->blk);
			s->blen = 0;
		}
	}
}

static void sha_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->total * 8;
	uint8_t pad = 0x80, zero = 0, len[8];
	sha_update(s, &pad, 1);
	while (s->blen != 56)
		sha_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha_update(s, len, 8);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

/* ---- base archive ---- */

/* Bump when the archive layout changes so stale cache entries are not reused. */
#define LAYOUT_TAG "boxvm-initramfs-v1"

static int build_base(const struct bx_kernel *k, const char *agent, size_t agent_len, char **mods, size_t nmods,
		      struct bx_cpio *c, struct bx_err *err)
{
	static const char *const dirs[] = {"proc", "sys", "dev", "newroot", "boxvm", "lib/boxvm-modules", NULL};
	for (const char *const *d = dirs; *d; d++)
		if (bx_cpio_add(c, *d, S_IFDIR | 0755, NULL, 0, err) < 0)
			return -1;
	if (bx_cpio_add(c, "init", S_IFREG | 0755, agent, agent_len, err) < 0)
		return -1;
	if (nmods > 89)
		return bx_fail(err, E2BIG, "too many guest modules (%zu)", nmods);
	for (size_t i = 0; i < nmods; i++) {
		char src[PATH_MAX], dst[PATH_MAX];
		const char *base = strrchr(mods[i], '/');
		base = base ? base + 1 : mods[i];
		if (bx_path_join(src, sizeof(src), err, "%s/%s", k->moddir, mods[i]) < 0 ||
		    bx_path_join(dst, sizeof(dst), err, "lib/boxvm-modules/%02zu-%s", i + 10, base) < 0)
			return -1;
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		if (bx_read_file(src, &data, &len, err) < 0)
			return bx_wrap(err, "guest kernel module");
		if (bx_cpio_add(c, dst, S_IFREG | 0644, data, len, err) < 0)
			return -1;
	}
	return bx_cpio_finish(c, err);
}

int bx_initramfs_base(const struct bx_paths *p, const struct bx_kernel *k, const char *agent_path, char *out,
		      size_t out_size, struct bx_err *err)
{
	char depf[PATH_MAX];
	_cleanup_free_ char *dep = NULL, *agent = NULL;
	size_t agent_len = 0;
	if (bx_read_file(agent_path, &agent, &agent_len, err) < 0)
		return bx_wrap(err, "guest agent");
	char **mods = NULL;
	size_t nmods = 0;
	/* a kernel with everything built in (the tailored one) loads nothing:
	 * the agent finds /lib/boxvm-modules empty */
	if (!k->builtin) {
		if (bx_path_join(depf, sizeof(depf), err, "%s/modules.dep", k->moddir) < 0)
			return -1;
		if (bx_read_file(depf, &dep, NULL, err) < 0)
			return bx_wrap(err, "guest kernel %s is incomplete (run 'boxvm kernel prepare')", k->version);
		if (bx_modules_dep_order(dep, bx_guest_modules, &mods, &nmods, err) < 0)
			return bx_wrap(err, "guest kernel %s", k->version);
	}

	struct sha256 h;
	sha_init(&h);
	sha_update(&h, LAYOUT_TAG, sizeof(LAYOUT_TAG));
	sha_update(&h, k->version, strlen(k->version) + 1);
	for (size_t i = 0; i < nmods; i++)
		sha_update(&h, mods[i], strlen(mods[i]) + 1);
	sha_update(&h, agent, agent_len);
	char key[65];
	sha_hex(&h, key);

	char dir[PATH_MAX];
	int rc = -1;
	struct bx_cpio c = {0};
	if (bx_path_join(dir, sizeof(dir), err, "%s/initramfs", p->data) < 0 ||
	    bx_path_join(out, out_size, err, "%s/%s.cpio", dir, key) < 0)
		goto out;
	if (access(out, R_OK) == 0) {
		rc = 0;
		goto out;
	}
	/* Concurrent builders each write a temp file and rename it into place;
	 * the contents are identical, so whoever renames last wins harmlessly
	 * and no reader ever sees a partial archive. */
	if (bx_mkdir_p(dir, 0700, err) < 0 || build_base(k, agent, agent_len, mods, nmods, &c, err) < 0 ||
	    bx_write_file_atomic(out, c.buf, c.len, 0600, err) < 0)
		goto out;
	rc = 0;
out:
	bx_cpio_free(&c);
	bx_modules_free(mods, nmods);
	return rc;
}

int bx_initramfs_box(const char *base_path, const uint8_t *spec, size_t spec_len, const char *out_path,
		     struct bx_err *err)
{
	_cleanup_free_ char *base = NULL;
	size_t base_len = 0;
	if (bx_read_file(base_path, &base, &base_len, err) < 0)
		return -1;
	struct bx_cpio c = {0};
	/* ino numbers continue past the base's so no two entries share one */
	c.ino = 100000;
	if (bx_cpio_add(&c, "boxvm/spec", S_IFREG | 0600, spec, spec_len, err) < 0 || bx_cpio_finish(&c, err) < 0) {
		bx_cpio_free(&c);
		return -1;
	}
	int rc = -1;
	uint8_t *all = malloc(base_len + c.len);
	if (!all) {
		bx_fail(err, ENOMEM, "out of memory");
	} else {
		memcpy(all, base, base_len);
		memcpy(all + base_len, c.buf, c.len);
		rc = bx_write_file_atomic(out_path, all, base_len + c.len, 0600, err);
		free(all);
	}
	bx_cpio_free(&c);
	return rc;
}

/* One newc header field: 8 hex digits. -1 if it is not one. */
static long long newc_field(const uint8_t *h)
{
	long long v = 0;
	for (int i = 0; i < 8; i++) {
		int c = h[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* The box's segment is the last one: "boxvm/spec" after the base
 * (bx_initramfs_box), a file boxvm wrote itself. Its header's offset in
 * *seg_off, the spec's bytes at *spec_off, *spec_len long. */
static const char spec_name[] = "boxvm/spec";

static int find_spec(const uint8_t *b, size_t len, const char *path, size_t *seg_off, size_t *spec_off,
		     size_t *spec_len, struct bx_err *err)
{
	const uint8_t *hdr = NULL;
	for (size_t off = 0; off + 110 + sizeof(spec_name) <= len; off += 4)
		if (!memcmp(b + off, "070701", 6) && !memcmp(b + off + 110, spec_name, sizeof(spec_name)))
			hdr = b + off;
	long long fsize = hdr ? newc_field(hdr + 54) : -1, nsize = hdr ? newc_field(hdr + 94) : -1;
	size_t data_off = hdr ? (size_t)(hdr - b) + ((110 + (size_t)nsize + 3) & ~(size_t)3) : 0;
	if (fsize < 0 || nsize != (long long)sizeof(spec_name) || data_off + (size_t)fsize > len)
		return bx_fail(err, 0, "%s holds no box spec", path);
	*seg_off = (size_t)(hdr - b);
	*spec_off = data_off;
	*spec_len = (size_t)fsize;
	return 0;
}

int bx_initramfs_box_spec(const char *base_path, const char *path, uint8_t **spec, size_t *spec_len,
			  struct bx_err *err)
{
	_cleanup_free_ char *all = NULL, *base = NULL;
	size_t len = 0, base_len = 0, seg, off, n;
	if (bx_read_file(path, &all, &len, err) < 0 || find_spec((const uint8_t *)all, len, path, &seg, &off, &n, err) < 0 ||
	    bx_read_file(base_path, &base, &base_len, err) < 0)
		return -1;
	/* the box's initramfs is that base and its spec: the same agent and modules */
	if (seg < base_len || memcmp(all, base, base_len))
		return bx_fail(err, 0, "%s was not made from %s (another agent or kernel)", path, base_path);
	uint8_t *out = malloc(n ? n : 1);
	if (!out)
		return bx_fail(err, ENOMEM, "out of memory");
	memcpy(out, all + off, n);
	*spec = out;
	*spec_len = n;
	return 0;
}

int bx_initramfs_box_respec(const char *path, int (*change)(struct bx_spec *s, void *ctx, struct bx_err *err),
			    void *ctx, struct bx_err *err)
{
	_cleanup_free_ char *all = NULL;
	size_t len = 0, seg, off, n;
	if (bx_read_file(path, &all, &len, err) < 0)
		return -1;
	const uint8_t *b = (const uint8_t *)all;
	if (find_spec(b, len, path, &seg, &off, &n, err) < 0)
		return -1;
	struct bx_spec spec = {0};
	if (bx_spec_decode(&spec, b + off, n, err) < 0)
		return bx_wrap(err, "%s", path);
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	int rc = change(&spec, ctx, err) < 0 || bx_spec_encode(&spec, &enc, &enc_len, err) < 0 ? -1 : 0;
	bx_spec_free(&spec);
	struct bx_cpio c = {.ino = 100000};
	if (rc == 0 && (bx_cpio_add(&c, spec_name, S_IFREG | 0600, enc, enc_len, err) < 0 || bx_cpio_finish(&c, err) < 0))
		rc = -1;
	free(enc);
	size_t keep = seg;
	uint8_t *out = rc == 0 ? malloc(keep + c.len) : NULL;
	if (rc == 0 && !out)
		rc = bx_fail(err, ENOMEM, "out of memory");
	if (rc == 0) {
		memcpy(out, b, keep);
		memcpy(out + keep, c.buf, c.len);
		rc = bx_write_file_atomic(path, out, keep + c.len, 0600, err);
	}
	free(out);
	bx_cpio_free(&c);
	return rc;
}
