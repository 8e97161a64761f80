/* How a box's published ports are shown, in Docker's shapes (pure) (netspec_view.h). */
#include "netspec_view.h"

#include <stdio.h>
#include <string.h>

void bx_ports_display(const struct bx_port *ports, int n, char *out, size_t size)
{
	size_t used = 0;
	if (size)
		out[0] = '\0';
	for (int i = 0; i < n; i++) {
		const struct bx_port *p = &ports[i];
		bool v6 = strchr(p->host_ip, ':') != NULL;
		const char *ip = p->host_ip[0] ? p->host_ip : "0.0.0.0";
		/* Docker shows a run of ports published on the same numbers as one range:
		 * "0.0.0.0:9000-9002->9000-9002/tcp" (-p 9000-9002:9000-9002) */
		int last = i;
		while (ports[last].host_port == ports[last].guest_port && last + 1 < n &&
		       ports[last + 1].guest_port == ports[last].guest_port + 1 &&
		       ports[last + 1].host_port == ports[last + 1].guest_port &&
		       !strcmp(ports[last + 1].proto, p->proto) && !strcmp(ports[last + 1].host_ip, p->host_ip))
			last++;
		char entry[128];
		/* Docker joins host and port as Go's net.JoinHostPort: brackets around IPv6 */
		if (last > i)
			snprintf(entry, sizeof(entry), "%s%s%s%s:%d-%d->%d-%d/%s", used ? ", " : "", v6 ? "[" : "", ip,
				 v6 ? "]" : "", p->host_port, ports[last].host_port, p->guest_port, ports[last].guest_port,
				 p->proto);
		else
			snprintf(entry, sizeof(entry), "%s%s%s%s:%d->%d/%s", used ? ", " : "", v6 ? "[" : "", ip,
				 v6 ? "]" : "", p->host_port, p->guest_port, p->proto);
		i = last;
		size_t len = strlen(entry);
		if (used + len + 1 > size)
			return;
		memcpy(out + used, entry, len + 1);
		used += len;
	}
}

json_t *bx_ports_json(const struct bx_port *ports, int n, bool resolved_ip)
{
	json_t *map = json_object();
	if (!map)
		return NULL;
	for (int i = 0; i < n; i++) {
		const struct bx_port *p = &ports[i];
		char key[24], host_port[8];
		snprintf(key, sizeof(key), "%d/%s", p->guest_port, p->proto);
		snprintf(host_port, sizeof(host_port), "%d", p->host_port);
		const char *ip = p->host_ip[0] || !resolved_ip ? p->host_ip : "0.0.0.0";
		json_t *list = json_object_get(map, key);
		if (!list) {
			list = json_array();
			json_object_set_new(map, key, list);
		}
		json_array_append_new(list, json_pack("{s:s,s:s}", "HostIp", ip, "HostPort", host_port));
	}
	return map;
}
