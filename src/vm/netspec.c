/* Parsing of the network flags (pure). */
#include "netspec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"

static bool is_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* a port number 1..65535 (or 0 when allow_zero), digits only */
static int parse_port_num(const char *s, size_t len, bool allow_zero, int *out)
{
	if (len == 0 || len > 5)
		return -1;
	int v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535 || (v == 0 && !allow_zero))
		return -1;
	*out = v;
	return 0;
}

/* "N" or "N-M": ports within lo..65535, N <= M. 0 ok, -1 malformed or out of
 * range, -2 reversed. */
static int parse_port_range(const char *s, bool allow_zero, int *first, int *last)
{
	const char *dash = strchr(s, '-');
	if (!dash) {
		if (parse_port_num(s, strlen(s), allow_zero, first) < 0)
			return -1;
		*last = *first;
		return 0;
	}
	/* a range never holds 0 ("pick a free one" is a single port) */
	if (parse_port_num(s, (size_t)(dash - s), false, first) < 0 ||
	    parse_port_num(dash + 1, strlen(dash + 1), false, last) < 0)
		return -1;
	return *last < *first ? -2 : 0;
}

struct publish_spec {
	struct bx_port base; /* address and protocol */
	int guest_first, guest_last;
	int host_first, host_last; /* 0, 0: no host port given */
	bool host_given;
};

static int publish_spec_parse(const char *text, struct publish_spec *ps, struct bx_err *err)
{
	memset(ps, 0, sizeof(*ps));
	struct bx_port *out = &ps->base;
	snprintf(out->proto, sizeof(out->proto), "tcp");
	char buf[128];
	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf) || !*text)
		goto bad;
	char *slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (strcmp(slash + 1, "tcp") && strcmp(slash + 1, "udp"))
			return bx_fail(err, 0, "invalid publish spec '%s': protocol must be tcp or udp, not '%s'", text,
				       slash + 1);
		snprintf(out->proto, sizeof(out->proto), "%s", slash + 1);
	}
	/* split from the right: guest port, then host port, then the address (which may hold ':') */
	char *ip = NULL, *host = NULL, *guest = buf;
	if (buf[0] == '[') { /* [v6]:host:guest */
		char *close = strchr(buf, ']');
		if (!close || close[1] != ':')
			goto bad;
		*close = '\0';
		ip = buf + 1;
		host = close + 2;
		char *c = strchr(host, ':');
		if (!c)
			goto bad;
		*c = '\0';
		guest = c + 1;
	} else {
		char *last = strrchr(buf, ':');
		if (last) {
			*last = '\0';
			guest = last + 1;
			char *prev = strrchr(buf, ':');
			if (prev) {
				*prev = '\0';
				ip = buf;
				host = prev + 1;
			} else {
				host = buf;
			}
		}
	}
	int r = parse_port_range(guest, false, &ps->guest_first, &ps->guest_last);
	if (r == -2)
		return bx_fail(err, 0, "invalid publish spec '%s': invalid container port range '%s' (write the lower "
				       "port first)", text, guest);
	if (r < 0)
		return bx_fail(err, 0, "invalid publish spec '%s': invalid container port '%s' (use 1-65535, or a "
				       "range START-END within it)", text, guest);
	if (host && *host) {
		ps->host_given = true;
		r = parse_port_range(host, true, &ps->host_first, &ps->host_last);
		if (r == -2)
			return bx_fail(err, 0, "invalid publish spec '%s': invalid host port range '%s' (write the "
					       "lower port first)", text, host);
		if (r < 0)
			return bx_fail(err, 0, "invalid publish spec '%s': invalid host port '%s' (use 0-65535, or a "
					       "range START-END within 1-65535)", text, host);
		/* Docker: a host range pairs with a container range of the same length, or with one
		 * container port (then it is the range to pick a free host port from) */
		if (ps->guest_last != ps->guest_first &&
		    ps->host_last - ps->host_first != ps->guest_last - ps->guest_first)
			return bx_fail(err, 0, "invalid publish spec '%s': Invalid ranges specified for container and "
					       "host Ports: %s and %s (give both ranges the same number of ports)",
				       text, guest, host);
	}
	if (ip && *ip) {
		if (!is_ip(ip) || strlen(ip) >= sizeof(out->host_ip))
			return bx_fail(err, 0, "invalid publish spec '%s': invalid IP address '%s'", text, ip);
		memcpy(out->host_ip, ip, strlen(ip) + 1);
	}
	if (!strcmp(out->host_ip, "0.0.0.0"))
		out->host_ip[0] = '\0';
	return 0;
bad:
	return bx_fail(err, 0, "invalid publish spec '%s': use [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]", text);
}

int bx_port_parse(const char *text, struct bx_port *out, struct bx_err *err)
{
	struct publish_spec ps;
	memset(out, 0, sizeof(*out));
	if (publish_spec_parse(text, &ps, err) < 0)
		return -1;
	if (ps.guest_first != ps.guest_last || ps.host_first != ps.host_last)
		return bx_fail(err, 0, "invalid publish spec '%s': port ranges are not supported here; publish each "
				       "port", text);
	*out = ps.base;
	out->guest_port = ps.guest_first;
	out->host_port = ps.host_first;
	return 0;
}

int bx_publish_parse(const char *text, struct bx_port *out, int max, struct bx_err *err)
{
	struct publish_spec ps;
	if (publish_spec_parse(text, &ps, err) < 0)
		return -1;
	int n = ps.guest_last - ps.guest_first + 1;
	if (n > max)
		return bx_fail(err, 0, "invalid publish spec '%s': too many published ports (a box publishes at most %d "
				       "in all, a range counts each port); publish fewer", text, BX_MAX_PORTS);
	for (int i = 0; i < n; i++) {
		out[i] = ps.base;
		out[i].guest_port = ps.guest_first + i;
		if (n > 1) {
			out[i].host_port = ps.host_given ? ps.host_first + i : 0;
		} else {
			out[i].host_port = ps.host_first;
			if (ps.host_last > ps.host_first)
				out[i].host_port_last = ps.host_last;
		}
	}
	return n;
}

void bx_port_format(const struct bx_port *p, char *buf, size_t size)
{
	bool v6 = strchr(p->host_ip, ':') != NULL;
	snprintf(buf, size, "%d/%s -> %s%s%s:%d", p->guest_port, p->proto, v6 ? "[" : "",
		 p->host_ip[0] ? p->host_ip : "0.0.0.0", v6 ? "]" : "", p->host_port);
}

int bx_network_parse(const char *name, bool *enabled, struct bx_err *err)
{
	if (!strcmp(name, "default") || !strcmp(name, "bridge")) {
		*enabled = true;
		return 0;
	}
	if (!strcmp(name, "none")) {
		*enabled = false;
		return 0;
	}
	return bx_fail(err, 0, "network %s not found (use --network default or --network none)", name);
}

static bool valid_hostname(const char *s)
{
	if (!*s || strlen(s) > 253)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
			return false;
	return true;
}

int bx_add_host_parse(const char *text, char *line, size_t size, struct bx_err *err)
{
	/* NAME:IP, split at the first ':' (an IPv6 address holds more); Docker also takes NAME=IP */
	const char *sep = strpbrk(text, ":=");
	if (!sep)
		return bx_fail(err, 0, "invalid --add-host '%s': use NAME:IP (or NAME:host-gateway)", text);
	char name[256];
	size_t nlen = (size_t)(sep - text);
	if (nlen >= sizeof(name))
		return bx_fail(err, 0, "invalid --add-host '%s': name too long", text);
	memcpy(name, text, nlen);
	name[nlen] = '\0';
	const char *ip = sep + 1;
	if (!strcmp(ip, "host-gateway"))
		ip = BX_NET_GATEWAY;
	if (!valid_hostname(name))
		return bx_fail(err, 0, "invalid --add-host '%s': invalid host name '%s'", text, name);
	if (!is_ip(ip))
		return bx_fail(err, 0, "invalid --add-host '%s': invalid IP address '%s'", text, ip);
	if (snprintf(line, size, "%s\t%s", ip, name) >= (int)size)
		return bx_fail(err, 0, "invalid --add-host '%s': too long", text);
	return 0;
}

int bx_dns_parse(const char *text, struct bx_err *err)
{
	if (!is_ip(text))
		return bx_fail(err, 0, "invalid --dns '%s': use an IP address", text);
	return 0;
}

/* Docker's ValidateDNSSearch: labels of letters and digits with inner '-',
 * joined by '.', an optional trailing '.', at most 255 characters. */
int bx_dns_search_parse(const char *text, struct bx_err *err)
{
	if (!strcmp(text, "."))
		return 0;
	size_t len = strlen(text);
	bool ok = len > 0 && len <= 255;
	for (const char *p = text; ok && *p;) {
		const char *label = p;
		while (isalnum((unsigned char)*p) || *p == '-')
			p++;
		ok = p > label && label[0] != '-' && p[-1] != '-' && (*p == '.' || !*p);
		if (ok && *p == '.')
			p++;
	}
	if (!ok)
		return bx_fail(err, 0, "invalid --dns-search '%s': use a domain name such as example.com (or '.' for "
				       "no search domains)", text);
	return 0;
}

int bx_dns_option_parse(const char *text, struct bx_err *err)
{
	bool ok = *text && strlen(text) <= 255;
	for (const char *p = text; ok && *p; p++)
		ok = isgraph((unsigned char)*p);
	if (!ok)
		return bx_fail(err, 0, "invalid --dns-option '%s': give one resolv.conf option without spaces, such as "
				       "ndots:2 (repeat the flag for more)", text);
	return 0;
}

static int appendf(char **out, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int appendf(char **out, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *piece = NULL;
	int n = vasprintf(&piece, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	char *grown = realloc(*out, *len + (size_t)n + 1);
	if (!grown) {
		free(piece);
		return -1;
	}
	memcpy(grown + *len, piece, (size_t)n + 1);
	free(piece);
	*out = grown;
	*len += (size_t)n;
	return 0;
}

int bx_etc_hosts(const char *hostname, bool network, char *const *hosts, char **out, struct bx_err *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int rc = appendf(&text, &len, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	/* Docker maps the box's own name to its address (loopback without a network) */
	if (!rc && hostname && *hostname)
		rc = appendf(&text, &len, "%s\t%s\n", network ? BX_NET_GUEST_ADDR : "127.0.1.1", hostname);
	for (char *const *h = hosts; !rc && h && *h; h++)
		rc = appendf(&text, &len, "%s\n", *h);
	if (rc)
		return bx_fail(err, ENOMEM, "out of memory");
	*out = BX_TAKE_PTR(text);
	return 0;
}

/* "KEYWORD a b\n" for the words of list (skipping "." ones when skip_dot); nothing when none */
static int append_words(char **out, size_t *len, const char *keyword, char *const *list, bool skip_dot)
{
	bool any = false;
	for (char *const *w = list; w && *w; w++) {
		if (skip_dot && !strcmp(*w, "."))
			continue;
		if (appendf(out, len, "%s %s", any ? "" : keyword, *w) < 0)
			return -1;
		any = true;
	}
	return any ? appendf(out, len, "\n") : 0;
}

int bx_etc_resolv(char *const *dns, char *const *search, char *const *options, char **out, struct bx_err *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int rc = 0;
	if (!dns || !*dns)
		rc = appendf(&text, &len, "nameserver %s\n", BX_NET_DNS);
	for (char *const *d = dns; !rc && d && *d; d++)
		rc = appendf(&text, &len, "nameserver %s\n", *d);
	/* Docker writes "search" then "options" after the servers; "--dns-search ." = no search line */
	if (!rc)
		rc = append_words(&text, &len, "search", search, true);
	if (!rc)
		rc = append_words(&text, &len, "options", options, false);
	if (rc)
		return bx_fail(err, ENOMEM, "out of memory");
	*out = BX_TAKE_PTR(text);
	return 0;
}
