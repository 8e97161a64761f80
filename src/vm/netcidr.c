/* IPv4 subnets, address pools and IP assignment of named networks (pure). */
#include "netcidr.h"

#include <stdio.h>
#include <string.h>

static uint32_t mask_of(int prefix)
{
	return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int bx_ip_parse(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned part = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9') {
			part = part * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || part > 255)
				return -1;
		}
		v = v << 8 | part;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	*out = v;
	return 0;
}

void bx_ip_format(uint32_t ip, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

int bx_cidr_parse(const char *text, struct bx_cidr *out, struct bx_err *err)
{
	char ip[20];
	const char *slash = strchr(text, '/');
	size_t iplen = slash ? (size_t)(slash - text) : 0;
	uint32_t a;
	int prefix = 0, digits = 0;
	if (!slash || iplen >= sizeof(ip))
		goto bad;
	memcpy(ip, text, iplen);
	ip[iplen] = '\0';
	if (bx_ip_parse(ip, &a) < 0)
		goto bad;
	for (const char *p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9' || ++digits > 2)
			goto bad;
		prefix = prefix * 10 + (*p - '0');
	}
	if (!digits || prefix > 32)
		goto bad;
	if (prefix < 8 || prefix > 30)
		return bx_fail(err, 0, "Invalid subnet %s : boxvm needs a prefix length from /8 to /30 (room for a gateway "
				       "and at least one box)", text);
	out->prefix = prefix;
	out->addr = a & mask_of(prefix);
	return 0;
bad:
	return bx_fail(err, 0, "Invalid subnet %s : invalid CIDR address: %s", text, text);
}

void bx_cidr_format(const struct bx_cidr *c, char *buf, size_t size)
{
	char ip[16];
	bx_ip_format(c->addr, ip, sizeof(ip));
	snprintf(buf, size, "%s/%d", ip, c->prefix);
}

bool bx_cidr_contains(const struct bx_cidr *c, uint32_t ip)
{
	return (ip & mask_of(c->prefix)) == c->addr;
}

bool bx_cidr_overlap(const struct bx_cidr *a, const struct bx_cidr *b)
{
	int p = a->prefix < b->prefix ? a->prefix : b->prefix;
	return (a->addr & mask_of(p)) == (b->addr & mask_of(p));
}

int bx_cidr_default_pool(int i, struct bx_cidr *out)
{
	if (i < 0)
		return -1;
	if (i < 14) { /* 172.18 .. 172.31 */
		out->addr = (172u << 24) | ((18u + (unsigned)i) << 16);
		out->prefix = 16;
		return 0;
	}
	i -= 14;
	if (i < 16) {
		out->addr = (192u << 24) | (168u << 16) | ((unsigned)i * 16u << 8);
		out->prefix = 20;
		return 0;
	}
	return -1;
}

uint32_t bx_cidr_first_host(const struct bx_cidr *c)
{
	return c->addr + 1;
}

int bx_ipam_pick(const struct bx_cidr *c, uint32_t gateway, const uint32_t *used, size_t nused, uint32_t *out)
{
	uint32_t last = c->addr | ~mask_of(c->prefix); /* the broadcast */
	for (uint32_t ip = c->addr + 1; ip < last; ip++) {
		if (ip == gateway)
			continue;
		bool taken = false;
		for (size_t i = 0; i < nused && !taken; i++)
			taken = used[i] == ip;
		if (!taken) {
			*out = ip;
			return 0;
		}
	}
	return -1;
}

void bx_mac_from_ip(uint32_t ip, char *buf, size_t size)
{
	snprintf(buf, size, "02:42:%02x:%02x:%02x:%02x", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}
