/* Parsing /boxvm/net and rewriting resolv.conf for named networks (pure). */
#include "netconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int valid_ip(const char *s)
{
	struct in_addr a;
	return inet_pton(AF_INET, s, &a) == 1;
}

static int valid_mac(const char *s)
{
	if (strlen(s) != 17)
		return 0;
	for (int i = 0; i < 17; i++) {
		char c = s[i];
		if (i % 3 == 2 ? c != ':' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

static int copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int bx_netconf_parse(const char *text, struct bx_netconf *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	const char *p = text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[128], mac[32], addr[32], extra[2];
		int prefix;
		if (len >= sizeof(line))
			return bx_fail(err, 0, "/boxvm/net: line too long");
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (eol ? 1 : 0);
		if (!line[0])
			continue;
		if (sscanf(line, "nic %31s %31[0-9.]/%d %1s", mac, addr, &prefix, extra) == 3) {
			if (out->nnics >= BX_NETCONF_MAX_NICS || !valid_mac(mac) || !valid_ip(addr) || prefix < 1 ||
			    prefix > 32 || copy(out->nics[out->nnics].mac, sizeof(out->nics[0].mac), mac) < 0 ||
			    copy(out->nics[out->nnics].addr, sizeof(out->nics[0].addr), addr) < 0)
				return bx_fail(err, 0, "/boxvm/net: bad line \"%s\"", line);
			out->nics[out->nnics++].prefix = prefix;
		} else if (sscanf(line, "dns %31s %1s", addr, extra) == 1 && valid_ip(addr) &&
			   copy(out->dns, sizeof(out->dns), addr) == 0) {
		} else {
			return bx_fail(err, 0, "/boxvm/net: bad line \"%s\"", line);
		}
	}
	return 0;
}

int bx_netcmd_parse(const char *line, struct bx_netcmd *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	char a[32], b[32], c[32], extra[2];
	int prefix;
	if (strlen(line) < 100) {
		if (sscanf(line, "up %31s %31s %31[0-9.]/%d %1s", a, b, c, &prefix, extra) == 4 && valid_mac(a) &&
		    valid_mac(b) && valid_ip(c) && prefix >= 1 && prefix <= 32) {
			out->op = BX_NETCMD_UP;
			out->prefix = prefix;
			copy(out->mac, sizeof(out->mac), a);
			copy(out->newmac, sizeof(out->newmac), b);
			copy(out->addr, sizeof(out->addr), c);
			return 0;
		}
		if (sscanf(line, "down %31s %31s %1s", a, b, extra) == 2 && valid_mac(a) && valid_mac(b)) {
			out->op = BX_NETCMD_DOWN;
			copy(out->mac, sizeof(out->mac), a);
			copy(out->newmac, sizeof(out->newmac), b);
			return 0;
		}
		if (sscanf(line, "dns %31s %31s %1s", a, b, extra) == 2 && valid_ip(a) && valid_ip(b)) {
			out->op = BX_NETCMD_DNS;
			copy(out->old, sizeof(out->old), a);
			copy(out->addr, sizeof(out->addr), b);
			return 0;
		}
	}
	return bx_fail(err, 0, "bad network change \"%.100s\"", line);
}

char *bx_netconf_resolv(const char *resolv, const char *default_ns, const char *dns)
{
	char want[64];
	snprintf(want, sizeof(want), "nameserver %s", default_ns);
	size_t cap = strlen(resolv) + 64, off = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	for (const char *p = resolv; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		size_t wl = strlen(want);
		int replace = len == wl && !strncmp(p, want, wl);
		const char *src = p;
		char repl[64];
		if (replace) {
			snprintf(repl, sizeof(repl), "nameserver %s", dns);
			src = repl;
			len = strlen(repl);
		}
		if (off + len + 2 > cap) {
			cap = (off + len + 2) * 2;
			char *n = realloc(out, cap);
			if (!n) {
				free(out);
				return NULL;
			}
			out = n;
		}
		memcpy(out + off, src, len);
		off += len;
		if (eol)
			out[off++] = '\n';
		p = eol ? eol + 1 : p + strlen(p);
	}
	out[off] = '\0';
	return out;
}
