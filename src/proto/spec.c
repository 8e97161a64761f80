/* Process spec (spec.h). */
#include "spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "spec_box.h"

#define REC_HDR 6 /* u16 tag | u32 len */

void bx_spec_init(struct bx_spec *s)
{
	memset(s, 0, sizeof(*s));
}

static void free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void bx_spec_free(struct bx_spec *s)
{
	free_strv(s->args);
	free_strv(s->env);
	free_strv(s->sysctls);
	free_strv(s->cgroup);
	free_strv(s->masked_paths);
	free_strv(s->readonly_paths);
	free_strv(s->group_names);
	free(s->cwd);
	free(s->user);
	free(s->hostname);
	bx_spec_box_free(s);
	bx_spec_limits_free(s);
	bx_spec_seccomp_free(s);
	bx_spec_init(s);
}

/* Append a copy of str[0..len) to a NULL-terminated vector. */
static int strv_push(char ***v, size_t *n, const char *str, size_t len, struct bx_err *err)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv)
		return bx_fail(err, ENOMEM, "cannot grow process spec");
	*v = nv;
	char *copy = strndup(str, len);
	if (!copy) {
		nv[*n] = NULL;
		return bx_fail(err, ENOMEM, "cannot grow process spec");
	}
	nv[(*n)++] = copy;
	nv[*n] = NULL;
	return 0;
}

int bx_spec_add_arg(struct bx_spec *s, const char *a, struct bx_err *err)
{
	return strv_push(&s->args, &s->nargs, a, strlen(a), err);
}

bool bx_spec_has_env(const struct bx_spec *s, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < s->nenv; i++)
		if (!strncmp(s->env[i], key, kl) && s->env[i][kl] == '=')
			return true;
	return false;
}

int bx_spec_add_env(struct bx_spec *s, const char *kv, struct bx_err *err)
{
	return strv_push(&s->env, &s->nenv, kv, strlen(kv), err);
}

int bx_spec_add_sysctl(struct bx_spec *s, const char *kv, struct bx_err *err)
{
	return strv_push(&s->sysctls, &s->nsysctls, kv, strlen(kv), err);
}

int bx_spec_add_cgroup(struct bx_spec *s, const char *kv, struct bx_err *err)
{
	return strv_push(&s->cgroup, &s->ncgroup, kv, strlen(kv), err);
}

const char *const bx_docker_masked_paths[] = {"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
					      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
					      "/proc/sched_debug", "/proc/scsi", "/sys/firmware", NULL};
const char *const bx_docker_readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
						NULL};

#define MAX_CONFINE_PATHS 256 /* masked or read-only paths of one spec */

static int add_path(char ***v, size_t *n, const char *p, size_t len, const char *what, struct bx_err *err)
{
	if (!len || p[0] != '/' || len > 4096)
		return bx_fail(err, EINVAL, "process spec: %s path must be absolute", what);
	if (*n >= MAX_CONFINE_PATHS)
		return bx_fail(err, E2BIG, "process spec: more than %d %s paths", MAX_CONFINE_PATHS, what);
	return strv_push(v, n, p, len, err);
}

int bx_spec_add_masked_path(struct bx_spec *s, const char *path, struct bx_err *err)
{
	return add_path(&s->masked_paths, &s->nmasked_paths, path, strlen(path), "masked", err);
}

int bx_spec_add_readonly_path(struct bx_spec *s, const char *path, struct bx_err *err)
{
	return add_path(&s->readonly_paths, &s->nreadonly_paths, path, strlen(path), "read-only", err);
}

int bx_spec_add_group_name(struct bx_spec *s, const char *name, struct bx_err *err)
{
	size_t len = strlen(name);
	if (!len || len > 256 || s->ngroup_names >= 64)
		return bx_fail(err, EINVAL, "process spec: group names must be 1 to 256 bytes, at most 64 of them");
	return strv_push(&s->group_names, &s->ngroup_names, name, len, err);
}

static int set_str(char **field, const char *v, struct bx_err *err)
{
	char *copy = NULL;
	if (v && !(copy = strdup(v)))
		return bx_fail(err, ENOMEM, "cannot grow process spec");
	free(*field);
	*field = copy;
	return 0;
}

int bx_spec_set_cwd(struct bx_spec *s, const char *cwd, struct bx_err *err)
{
	return set_str(&s->cwd, cwd, err);
}

int bx_spec_set_user(struct bx_spec *s, const char *user, struct bx_err *err)
{
	return set_str(&s->user, user, err);
}

int bx_spec_set_hostname(struct bx_spec *s, const char *hostname, struct bx_err *err)
{
	return set_str(&s->hostname, hostname, err);
}

/* ---- encoding ---- */

/* Growable output buffer; `failed` latches the first error so callers can
 * emit every record and check once. */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void put_rec(struct wbuf *w, uint16_t tag, const void *data, size_t len)
{
	if (w->failed)
		return;
	if (len > UINT32_MAX || len > SIZE_MAX / 2 - REC_HDR - w->len) {
		w->failed = true;
		return;
	}
	size_t need = w->len + REC_HDR + len;
	if (need > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < need)
			cap *= 2;
		uint8_t *np = realloc(w->p, cap);
		if (!np) {
			w->failed = true;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	bx_put_u16(w->p + w->len, tag);
	bx_put_u32(w->p + w->len + 2, (uint32_t)len);
	if (len)
		memcpy(w->p + w->len + REC_HDR, data, len);
	w->len = need;
}

static void put_str(struct wbuf *w, uint16_t tag, const char *str)
{
	if (str)
		put_rec(w, tag, str, strlen(str));
}

static void put_u32_rec(struct wbuf *w, uint16_t tag, uint32_t v)
{
	uint8_t b[4];
	bx_put_u32(b, v);
	put_rec(w, tag, b, sizeof(b));
}

int bx_spec_encode(const struct bx_spec *s, uint8_t **out, size_t *out_len, struct bx_err *err)
{
	if (s->nargs == 0)
		return bx_fail(err, EINVAL, "process spec has no command");
	struct wbuf w = { 0 };
	for (size_t i = 0; i < s->nargs; i++)
		put_str(&w, BX_T_ARG, s->args[i]);
	for (size_t i = 0; i < s->nenv; i++)
		put_str(&w, BX_T_ENV, s->env[i]);
	put_str(&w, BX_T_CWD, s->cwd);
	put_str(&w, BX_T_USER, s->user);
	put_str(&w, BX_T_HOSTNAME, s->hostname);
	/* flags and knobs are sent only when set: absent decodes as the default */
	if (s->tty)
		put_rec(&w, BX_T_TTY, (const uint8_t[]){ 1 }, 1);
	if (s->stdin_open)
		put_rec(&w, BX_T_STDIN, (const uint8_t[]){ 1 }, 1);
	if (s->exact)
		put_rec(&w, BX_T_EXACT, (const uint8_t[]){ 1 }, 1);
	if (s->accept_delay_ms)
		put_u32_rec(&w, BX_T_ACCEPT_DELAY_MS, s->accept_delay_ms);
	if (s->timeout_ms)
		put_u32_rec(&w, BX_T_TIMEOUT_MS, s->timeout_ms);
	for (size_t i = 0; i < s->nrlimits; i++) {
		uint8_t r[20];
		bx_spec_rlimit_pack(&s->rlimits[i], r);
		put_rec(&w, BX_T_RLIMIT, r, sizeof(r));
	}
	for (size_t i = 0; i < s->ngroups; i++)
		put_u32_rec(&w, BX_T_GROUP, s->groups[i]);
	if (s->caps.set) {
		uint8_t c[BX_SPEC_CAPS_REC];
		bx_spec_caps_pack(&s->caps, c);
		put_rec(&w, BX_T_CAPS, c, sizeof(c));
	}
	if (s->no_new_privs)
		put_rec(&w, BX_T_NO_NEW_PRIVS, (const uint8_t[]){ 1 }, 1);
	if (s->idle)
		put_rec(&w, BX_T_IDLE, (const uint8_t[]){ 1 }, 1);
	if (s->build_step)
		put_rec(&w, BX_T_BUILD_STEP, (const uint8_t[]){ 1 }, 1);
	for (size_t i = 0; i < s->nsysctls; i++)
		put_str(&w, BX_T_SYSCTL, s->sysctls[i]);
	for (size_t i = 0; i < s->ncgroup; i++)
		put_str(&w, BX_T_CGROUP, s->cgroup[i]);
	if (s->oom_score_adj_set)
		put_u32_rec(&w, BX_T_OOM_SCORE_ADJ, (uint32_t)s->oom_score_adj);
	if (s->shm_size) {
		uint8_t b[8];
		bx_put_u32(b, (uint32_t)s->shm_size);
		bx_put_u32(b + 4, (uint32_t)(s->shm_size >> 32));
		put_rec(&w, BX_T_SHM_SIZE, b, sizeof(b));
	}
	for (size_t i = 0; i < s->nmasked_paths; i++)
		put_str(&w, BX_T_MASKED_PATH, s->masked_paths[i]);
	for (size_t i = 0; i < s->nreadonly_paths; i++)
		put_str(&w, BX_T_READONLY_PATH, s->readonly_paths[i]);
	for (size_t i = 0; i < s->ngroup_names; i++)
		put_str(&w, BX_T_GROUP_NAME, s->group_names[i]);
	if (s->nseccomp && !w.failed) {
		uint8_t *f;
		size_t flen;
		if (bx_spec_seccomp_pack(s, &f, &flen) < 0)
			w.failed = true;
		else
			put_rec(&w, BX_T_SECCOMP, f, flen);
		free(f);
	}
	put_str(&w, BX_T_IPV4, s->ipv4);
	put_str(&w, BX_T_GATEWAY, s->gateway);
	if (s->mtu)
		put_u32_rec(&w, BX_T_MTU, s->mtu);
	put_str(&w, BX_T_ETC_HOSTS, s->etc_hosts);
	put_str(&w, BX_T_ETC_RESOLV, s->etc_resolv);
	if (s->read_only)
		put_rec(&w, BX_T_READ_ONLY, (const uint8_t[]){ 1 }, 1);
	for (size_t i = 0; i < s->nmounts && !w.failed; i++) {
		uint8_t *m;
		size_t mlen;
		if (bx_spec_mount_pack(&s->mounts[i], &m, &mlen) < 0) {
			w.failed = true;
			break;
		}
		put_rec(&w, BX_T_MOUNT, m, mlen);
		free(m);
	}
	if (w.failed) {
		free(w.p);
		return bx_fail(err, ENOMEM, "cannot encode process spec");
	}
	*out = w.p;
	*out_len = w.len;
	return 0;
}

/* ---- decoding ---- */

static int dec_str(char **field, const uint8_t *p, uint32_t len, const char *name, struct bx_err *err)
{
	if (*field)
		return bx_fail(err, 0, "process spec: duplicate %s", name);
	if (memchr(p, '\0', len))
		return bx_fail(err, 0, "process spec: %s contains a NUL byte", name);
	if (!(*field = strndup((const char *)p, len)))
		return bx_fail(err, ENOMEM, "cannot decode process spec");
	return 0;
}

static int dec_strv(char ***v, size_t *n, const uint8_t *p, uint32_t len, const char *name,
		    struct bx_err *err)
{
	if (memchr(p, '\0', len))
		return bx_fail(err, 0, "process spec: %s contains a NUL byte", name);
	return strv_push(v, n, (const char *)p, len, err);
}

static int dec_bool(bool *field, const uint8_t *p, uint32_t len, const char *name, struct bx_err *err)
{
	if (len != 1 || p[0] > 1)
		return bx_fail(err, 0, "process spec: %s must be one byte 0 or 1", name);
	*field = p[0];
	return 0;
}

static int dec_u32(uint32_t *field, const uint8_t *p, uint32_t len, const char *name, struct bx_err *err)
{
	if (len != 4)
		return bx_fail(err, 0, "process spec: %s must be 4 bytes, got %u", name, len);
	*field = bx_get_u32(p);
	return 0;
}

static int dec_oom(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err)
{
	uint32_t v = 0; /* set by dec_u32 on success (-O2 cannot tell) */
	if (s->oom_score_adj_set)
		return bx_fail(err, 0, "process spec: duplicate oom score adjustment");
	if (dec_u32(&v, p, len, "oom score adjustment", err) < 0)
		return -1;
	if ((int32_t)v < -1000 || (int32_t)v > 1000)
		return bx_fail(err, 0, "process spec: oom score adjustment %d is outside -1000..1000", (int32_t)v);
	s->oom_score_adj_set = true;
	s->oom_score_adj = (int32_t)v;
	return 0;
}

static int dec_shm(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err)
{
	if (len != 8 || s->shm_size)
		return bx_fail(err, 0, "process spec: /dev/shm size must be 8 bytes, given once");
	s->shm_size = (uint64_t)bx_get_u32(p) | (uint64_t)bx_get_u32(p + 4) << 32;
	if (!s->shm_size)
		return bx_fail(err, 0, "process spec: /dev/shm size must not be 0");
	return 0;
}

static int dec_path(char ***v, size_t *n, const uint8_t *p, uint32_t len, const char *what, struct bx_err *err)
{
	if (memchr(p, '\0', len))
		return bx_fail(err, 0, "process spec: %s path contains a NUL byte", what);
	return add_path(v, n, (const char *)p, len, what, err);
}

static int dec_rec(struct bx_spec *s, uint16_t tag, const uint8_t *p, uint32_t len, struct bx_err *err)
{
	switch (tag) {
	case BX_T_ARG: return dec_strv(&s->args, &s->nargs, p, len, "argument", err);
	case BX_T_ENV: return dec_strv(&s->env, &s->nenv, p, len, "environment entry", err);
	case BX_T_CWD: return dec_str(&s->cwd, p, len, "working directory", err);
	case BX_T_USER: return dec_str(&s->user, p, len, "user", err);
	case BX_T_HOSTNAME: return dec_str(&s->hostname, p, len, "hostname", err);
	case BX_T_TTY: return dec_bool(&s->tty, p, len, "tty flag", err);
	case BX_T_STDIN: return dec_bool(&s->stdin_open, p, len, "stdin flag", err);
	case BX_T_EXACT: return dec_bool(&s->exact, p, len, "exact flag", err);
	case BX_T_IDLE: return dec_bool(&s->idle, p, len, "idle flag", err);
	case BX_T_BUILD_STEP: return dec_bool(&s->build_step, p, len, "build-step flag", err);
	case BX_T_ACCEPT_DELAY_MS: return dec_u32(&s->accept_delay_ms, p, len, "accept delay", err);
	case BX_T_TIMEOUT_MS: return dec_u32(&s->timeout_ms, p, len, "timeout", err);
	case BX_T_RLIMIT: return bx_spec_rlimit_unpack(s, p, len, err);
	case BX_T_GROUP: return bx_spec_group_unpack(s, p, len, err);
	case BX_T_CAPS: return bx_spec_caps_unpack(s, p, len, err);
	case BX_T_NO_NEW_PRIVS: return dec_bool(&s->no_new_privs, p, len, "no-new-privileges flag", err);
	case BX_T_SYSCTL: return dec_strv(&s->sysctls, &s->nsysctls, p, len, "sysctl", err);
	case BX_T_CGROUP: return dec_strv(&s->cgroup, &s->ncgroup, p, len, "cgroup limit", err);
	case BX_T_SECCOMP: return bx_spec_seccomp_unpack(s, p, len, err);
	case BX_T_OOM_SCORE_ADJ: return dec_oom(s, p, len, err);
	case BX_T_SHM_SIZE: return dec_shm(s, p, len, err);
	case BX_T_MASKED_PATH: return dec_path(&s->masked_paths, &s->nmasked_paths, p, len, "masked", err);
	case BX_T_READONLY_PATH: return dec_path(&s->readonly_paths, &s->nreadonly_paths, p, len, "read-only", err);
	case BX_T_GROUP_NAME:
		if (memchr(p, '\0', len) || !len || len > 256 || s->ngroup_names >= 64)
			return bx_fail(err, 0, "process spec: group names must be 1 to 256 bytes, at most 64 of them");
		return strv_push(&s->group_names, &s->ngroup_names, (const char *)p, len, err);
	case BX_T_IPV4: return dec_str(&s->ipv4, p, len, "IPv4 address", err);
	case BX_T_GATEWAY: return dec_str(&s->gateway, p, len, "gateway", err);
	case BX_T_MTU: return dec_u32(&s->mtu, p, len, "MTU", err);
	case BX_T_ETC_HOSTS: return dec_str(&s->etc_hosts, p, len, "/etc/hosts", err);
	case BX_T_ETC_RESOLV: return dec_str(&s->etc_resolv, p, len, "/etc/resolv.conf", err);
	case BX_T_READ_ONLY: return dec_bool(&s->read_only, p, len, "read-only flag", err);
	case BX_T_MOUNT: return bx_spec_mount_unpack(s, p, len, err);
	default:
		return bx_fail(err, 0, "process spec: unknown tag %u (host and agent versions differ?)", tag);
	}
}

static int decode_all(struct bx_spec *s, const uint8_t *buf, size_t len, struct bx_err *err)
{
	size_t off = 0;
	while (off < len) {
		if (len - off < REC_HDR)
			return bx_fail(err, 0, "process spec: truncated record header at byte %zu", off);
		uint16_t tag = bx_get_u16(buf + off);
		uint32_t rlen = bx_get_u32(buf + off + 2);
		off += REC_HDR;
		if (len - off < rlen)
			return bx_fail(err, 0, "process spec: record %u truncated (%u bytes declared, %zu left)",
				       tag, rlen, len - off);
		if (dec_rec(s, tag, buf + off, rlen, err) < 0)
			return -1;
		off += rlen;
	}
	if (s->nargs == 0)
		return bx_fail(err, 0, "process spec: no command (missing arguments)");
	return 0;
}

int bx_spec_decode(struct bx_spec *s, const uint8_t *buf, size_t len, struct bx_err *err)
{
	/* on failure leave *s empty (not half-filled) so callers need no special cleanup */
	if (decode_all(s, buf, len, err) < 0) {
		bx_spec_free(s);
		return -1;
	}
	return 0;
}
