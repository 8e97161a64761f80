/* Parsing of the network flags (pure). */
#include "netspec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int bx_port_parse(const char *text, struct bx_port *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
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
	if (strchr(guest, '-') || (host && strchr(host, '-')))
		return bx_fail(err, 0, "invalid publish spec '%s': port ranges are not supported; publish each port", text);
	if (parse_port_num(guest, strlen(guest), false, &out->guest_port) < 0)
		return bx_fail(err, 0, "invalid publish spec '%s': invalid container port '%s' (use 1-65535)", text, guest);
	if (host && *host && parse_port_num(host, strlen(host), true, &out->host_port) < 0)
		return bx_fail(err, 0, "invalid publish spec '%s': invalid host port '%s' (use 0-65535)", text, host);
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
	char *text = NULL;
	size_t len = 0;
	int rc = appendf(&text, &len, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	/* Docker maps the box's own name to its address (loopback without a network) */
	if (!rc && hostname && *hostname)
		rc = appendf(&text, &len, "%s\t%s\n", network ? BX_NET_GUEST_ADDR : "127.0.1.1", hostname);
	for (char *const *h = hosts; !rc && h && *h; h++)
		rc = appendf(&text, &len, "%s\n", *h);
	if (rc) {
		free(text);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	*out = text;
	return 0;
}

int bx_etc_resolv(char *const *dns, char **out, struct bx_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = 0;
	if (!dns || !*dns)
		rc = appendf(&text, &len, "nameserver %s\n", BX_NET_DNS);
	for (char *const *d = dns; !rc && d && *d; d++)
		rc = appendf(&text, &len, "nameserver %s\n", *d);
	if (rc) {
		free(text);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	*out = text;
	return 0;
}
