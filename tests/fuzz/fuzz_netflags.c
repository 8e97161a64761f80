/* The network flags of run/create: -p (with ranges), --add-host, --dns,
 * --dns-search, --dns-option, --network, and the /etc files built from them. */
#include "fuzz.h"
#include "vm/netspec.h"

static void check_port(const struct bx_port *p)
{
	FZ_CHECK(p->guest_port >= 1 && p->guest_port <= 65535);
	FZ_CHECK(p->host_port >= 0 && p->host_port <= 65535);
	FZ_CHECK(p->host_port_last == 0 || (p->host_port_last > p->host_port && p->host_port_last <= 65535));
	FZ_CHECK(!strcmp(p->proto, "tcp") || !strcmp(p->proto, "udp"));
	FZ_CHECK(memchr(p->host_ip, '\0', sizeof(p->host_ip)));
	char buf[128];
	bx_port_format(p, buf, sizeof(buf));
	FZ_CHECK(memchr(buf, '\0', sizeof(buf)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_cstr(data, size);
	struct bx_port ports[BX_MAX_PORTS];
	struct bx_err err = {0};
	int n = bx_publish_parse(text, ports, BX_MAX_PORTS, &err);
	if (n < 0)
		FZ_CHECK_ERR(err);
	FZ_CHECK(n <= BX_MAX_PORTS);
	for (int i = 0; i < n; i++)
		check_port(&ports[i]);

	struct bx_port one;
	struct bx_err oerr = {0};
	if (bx_port_parse(text, &one, &oerr) == 0)
		check_port(&one);
	else
		FZ_CHECK_ERR(oerr);

	bool enabled;
	struct bx_err e2 = {0};
	(void)bx_network_parse(text, &enabled, &e2);
	char line[300];
	char *hosts[] = {NULL, NULL};
	if (bx_add_host_parse(text, line, sizeof(line), &e2) == 0) {
		FZ_CHECK(memchr(line, '\0', sizeof(line)));
		hosts[0] = line;
	}
	char *etc = NULL;
	if (bx_etc_hosts(text, true, hosts, &etc, &e2) == 0)
		free(etc);

	char *dns[] = {text, NULL}, *search[] = {NULL, NULL}, *opts[] = {NULL, NULL};
	bool dns_ok = bx_dns_parse(text, &e2) == 0;
	if (bx_dns_search_parse(text, &e2) == 0)
		search[0] = text;
	if (bx_dns_option_parse(text, &e2) == 0)
		opts[0] = text;
	char *resolv = NULL;
	if (bx_etc_resolv(dns_ok ? dns : NULL, search, opts, &resolv, &e2) == 0)
		free(resolv);
	free(text);
	return 0;
}
