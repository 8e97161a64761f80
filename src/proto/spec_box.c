/* The box-only fields of the process spec: network, /etc files, mounts. */
#include "spec_box.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static void mount_free(struct bx_spec_mount *m)
{
	free(m->source);
	free(m->target);
	free(m->options);
}

void bx_spec_box_free(struct bx_spec *s)
{
	free(s->ipv4);
	free(s->gateway);
	free(s->etc_hosts);
	free(s->etc_resolv);
	for (size_t i = 0; i < s->nmounts; i++)
		mount_free(&s->mounts[i]);
	free(s->mounts);
}

static int replace(char **field, const char *v, struct bx_err *err)
{
	char *copy = NULL;
	if (v && !(copy = strdup(v)))
		return bx_fail(err, ENOMEM, "cannot grow process spec");
	free(*field);
	*field = copy;
	return 0;
}

int bx_spec_set_net(struct bx_spec *s, const char *ipv4, const char *gateway, uint32_t mtu, struct bx_err *err)
{
	if (replace(&s->ipv4, ipv4, err) < 0 || replace(&s->gateway, gateway, err) < 0)
		return -1;
	s->mtu = mtu;
	return 0;
}

int bx_spec_set_etc(struct bx_spec *s, const char *hosts, const char *resolv, struct bx_err *err)
{
	return replace(&s->etc_hosts, hosts, err) < 0 || replace(&s->etc_resolv, resolv, err) < 0 ? -1 : 0;
}

static int push_mount(struct bx_spec *s, uint8_t kind, bool ro, const char *src, size_t nsrc, const char *dst,
		      size_t ndst, const char *opt, size_t nopt, struct bx_err *err)
{
	struct bx_spec_mount *nm = realloc(s->mounts, (s->nmounts + 1) * sizeof(*nm));
	if (!nm)
		return bx_fail(err, ENOMEM, "cannot grow process spec");
	s->mounts = nm;
	struct bx_spec_mount m = {.kind = kind, .ro = ro};
	m.source = strndup(src, nsrc);
	m.target = strndup(dst, ndst);
	m.options = strndup(opt, nopt);
	if (!m.source || !m.target || !m.options) {
		mount_free(&m);
		return bx_fail(err, ENOMEM, "cannot grow process spec");
	}
	s->mounts[s->nmounts++] = m;
	return 0;
}

int bx_spec_add_mount(struct bx_spec *s, uint8_t kind, bool ro, const char *source, const char *target,
		      const char *options, struct bx_err *err)
{
	if (kind < BX_SM_DIR || kind > BX_SM_TMPFS || !target || target[0] != '/')
		return bx_fail(err, EINVAL, "process spec: invalid mount");
	source = source ? source : "";
	options = options ? options : "";
	if (strlen(source) > UINT16_MAX || strlen(target) > UINT16_MAX)
		return bx_fail(err, EINVAL, "process spec: mount path too long");
	return push_mount(s, kind, ro, source, strlen(source), target, strlen(target), options, strlen(options), err);
}

int bx_spec_mount_pack(const struct bx_spec_mount *m, uint8_t **out, size_t *len)
{
	size_t ns = strlen(m->source), nt = strlen(m->target), no = strlen(m->options);
	size_t n = 2 + 2 + ns + 2 + nt + no;
	uint8_t *b = malloc(n);
	if (!b)
		return -1;
	b[0] = m->kind;
	b[1] = m->ro;
	bx_put_u16(b + 2, (uint16_t)ns);
	memcpy(b + 4, m->source, ns);
	bx_put_u16(b + 4 + ns, (uint16_t)nt);
	memcpy(b + 6 + ns, m->target, nt);
	memcpy(b + 6 + ns + nt, m->options, no);
	*out = b;
	*len = n;
	return 0;
}

int bx_spec_mount_unpack(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err)
{
	if (len < 6)
		goto bad;
	uint8_t kind = p[0], ro = p[1];
	size_t ns = bx_get_u16(p + 2);
	if (len < 6 + ns)
		goto bad;
	size_t nt = bx_get_u16(p + 4 + ns);
	if (len < 6 + ns + nt)
		goto bad;
	const char *src = (const char *)p + 4, *dst = (const char *)p + 6 + ns, *opt = (const char *)p + 6 + ns + nt;
	size_t no = len - 6 - ns - nt;
	if (kind < BX_SM_DIR || kind > BX_SM_TMPFS || ro > 1 || nt == 0 || dst[0] != '/' ||
	    memchr(src, '\0', ns) || memchr(dst, '\0', nt) || memchr(opt, '\0', no))
		goto bad;
	return push_mount(s, kind, ro, src, ns, dst, nt, opt, no, err);
bad:
	return bx_fail(err, 0, "process spec: malformed mount record");
}
