/* How a box's published ports are shown, in Docker's shapes (pure):
 * the PORTS column of `ps` ("127.0.0.1:49153->80/tcp, 0.0.0.0:53->53/udp")
 * and the port maps of `inspect` ({"80/tcp":[{"HostIp":..,"HostPort":".."}]}).
 * The ports are the ones stored in the box's vm.json, host ports resolved. */
#ifndef BOXVM_NETSPEC_VIEW_H
#define BOXVM_NETSPEC_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../vm/netspec.h"

/* `docker ps` PORTS text; "" for no ports. Consecutive ports published on the
 * same numbers show as one range ("0.0.0.0:9000-9001->9000-9001/udp"), as in
 * Docker. Truncated (never split mid-entry) if size is short. */
void bx_ports_display(const struct bx_port *ports, int n, char *out, size_t size);
/* {"PORT/PROTO": [{"HostIp": IP, "HostPort": "N"}, ...], ...}: one key per guest
 * port, several bindings under it when one guest port is published twice.
 * resolved_ip: true for NetworkSettings.Ports (all addresses = "0.0.0.0"),
 * false for HostConfig.PortBindings (the address as given, "" = all). */
json_t *bx_ports_json(const struct bx_port *ports, int n, bool resolved_ip);

#endif
