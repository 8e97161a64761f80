/* Pod port following's pure part (podnet.h): the /proc/net/tcp reader, the
 * port sets and their wire form. */
#include "podnet.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define TCP_LISTEN 0x0A /* the kernel's TCP_LISTEN, as /proc/net/tcp prints st */

const struct bx_podport *bx_portset_find(const struct bx_portset *set, uint16_t port)
{
	int lo = 0, hi = set->n;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (set->p[mid].port == port)
			return &set->p[mid];
		if (set->p[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void bx_portset_add(struct bx_portset *set, uint16_t port, bool loopback)
{
	if (port == 0)
		return;
	int i = 0;
	while (i < set->n && set->p[i].port < port)
		i++;
	if (i < set->n && set->p[i].port == port) {
		set->p[i].loopback = set->p[i].loopback && loopback;
		return;
	}
	if (set->n == BX_PODNET_MAX_PORTS) {
		set->truncated = true;
		return;
	}
	memmove(&set->p[i + 1], &set->p[i], (size_t)(set->n - i) * sizeof(set->p[0]));
	set->p[i] = (struct bx_podport){.port = port, .loopback = loopback};
	set->n++;
}

bool bx_portset_equal(const struct bx_portset *a, const struct bx_portset *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (a->p[i].port != b->p[i].port || a->p[i].loopback != b->p[i].loopback)
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n hex digits at *p into *v (at most 8), advancing p; -1 if they are not */
static int hex_field(const char **p, const char *end, int n, uint32_t *v)
{
	uint32_t x = 0;
	for (int i = 0; i < n; i++) {
		int d = *p < end ? hexval(**p) : -1;
		if (d < 0)
			return -1;
		x = x << 4 | (uint32_t)d;
		(*p)++;
	}
	*v = x;
	return 0;
}

/* One line of /proc/net/tcp{,6}: "  N: ADDR:PORT REMADDR:PORT ST ...". The
 * address is the kernel's words (u32s) in the reader's byte order, so the
 * text is only meaningful on the machine whose kernel wrote it. */
static int parse_line(const char *p, const char *end, bool v6, uint8_t addr[16], uint16_t *port, unsigned *state)
{
	while (p < end && *p == ' ')
		p++;
	if (p == end || hexval(*p) < 0 || *p > '9')
		return -1; /* the header line */
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (end - p < 2 || p[0] != ':' || p[1] != ' ')
		return -1;
	p += 2;
	int words = v6 ? 4 : 1;
	uint32_t w, v;
	for (int i = 0; i < words; i++) {
		if (hex_field(&p, end, 8, &w) < 0)
			return -1;
		memcpy(addr + 4 * i, &w, 4);
	}
	if (p == end || *p++ != ':' || hex_field(&p, end, 4, &v) < 0)
		return -1;
	*port = (uint16_t)v;
	if (p == end || *p++ != ' ')
		return -1;
	for (int i = 0; i < words; i++)
		if (hex_field(&p, end, 8, &w) < 0)
			return -1;
	if (p == end || *p++ != ':' || hex_field(&p, end, 4, &v) < 0 || p == end || *p++ != ' ' ||
	    hex_field(&p, end, 2, &v) < 0)
		return -1;
	*state = v;
	return 0;
}

static bool is_loopback(const uint8_t a[16], bool v6)
{
	static const uint8_t one6[16] = {[15] = 1};
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	if (!v6)
		return a[0] == 127;
	return !memcmp(a, one6, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
}

/* Each LISTEN line of text: fn(addr, port, arg) */
static void each_listener(const char *text, bool v6, void (*fn)(const uint8_t *, uint16_t, bool, void *), void *arg)
{
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);
		uint8_t addr[16] = {0};
		uint16_t port;
		unsigned st;
		if (parse_line(p, end, v6, addr, &port, &st) == 0 && st == TCP_LISTEN)
			fn(addr, port, v6, arg);
		p = nl ? nl + 1 : NULL;
	}
}

static void add_one(const uint8_t *addr, uint16_t port, bool v6, void *arg)
{
	bx_portset_add(arg, port, is_loopback(addr, v6));
}

void bx_portset_add_proc(struct bx_portset *set, const char *text, bool v6)
{
	each_listener(text, v6, add_one, set);
}

size_t bx_portset_encode(const struct bx_portset *set, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (int i = 0; i < set->n && n + 3 <= cap; i++) {
		out[n] = (uint8_t)set->p[i].port;
		out[n + 1] = (uint8_t)(set->p[i].port >> 8);
		out[n + 2] = set->p[i].loopback ? 1 : 0;
		n += 3;
	}
	return n;
}

int bx_portset_decode(struct bx_portset *set, const uint8_t *buf, size_t len, struct bx_err *err)
{
	memset(set, 0, sizeof(*set));
	if (len % 3 || len / 3 > BX_PODNET_MAX_PORTS)
		return bx_fail(err, EPROTO, "a port set of %zu bytes", len);
	for (size_t i = 0; i < len; i += 3) {
		uint16_t port = (uint16_t)(buf[i] | buf[i + 1] << 8);
		if (port == 0 || (set->n && port <= set->p[set->n - 1].port) || buf[i + 2] > 1)
			return bx_fail(err, EPROTO, "a port set out of order or with bad flags");
		set->p[set->n++] = (struct bx_podport){.port = port, .loopback = buf[i + 2] == 1};
	}
	return 0;
}

struct want {
	uint16_t port;
	bool found;
	struct sockaddr_storage *ss;
	socklen_t *len;
};

static void pick(const uint8_t *addr, uint16_t port, bool v6, void *arg)
{
	struct want *w = arg;
	static const uint8_t any6[16] = {0};
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	if (w->found || port != w->port)
		return;
	w->found = true;
	memset(w->ss, 0, sizeof(*w->ss));
	if (!v6 || !memcmp(addr, mapped, 12)) {
		struct sockaddr_in *in = (struct sockaddr_in *)w->ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, v6 ? addr + 12 : addr, 4);
		if (in->sin_addr.s_addr == htonl(INADDR_ANY))
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*w->len = sizeof(*in);
		return;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)w->ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	memcpy(&in6->sin6_addr, addr, 16);
	if (!memcmp(addr, any6, 16))
		in6->sin6_addr = in6addr_loopback;
	*w->len = sizeof(*in6);
}

int bx_podnet_listener_addr(const char *text4, const char *text6, uint16_t port, struct sockaddr_storage *ss,
			    socklen_t *len)
{
	struct want w = {.port = port, .ss = ss, .len = len};
	each_listener(text4, false, pick, &w);
	each_listener(text6, true, pick, &w);
	return w.found ? 0 : -1;
}
