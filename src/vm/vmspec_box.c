/* vm.json members for the box's network and shares:
 *   "network": true|false,
 *   "ports":  [{"host_ip": "", "host_port": 8080, "guest_port": 80, "proto": "tcp"}],
 *   "all_ports": true|false (only written when true),
 *   "shares": [{"tag": "m0", "source": "/host/dir", "volume": "", "ro": false, "file": false}],
 *   "rootfs_ro": true|false (only written when true: --read-only, OCI root.readonly)
 *   "networks": [{"id": "64 hex", "name": "app", "ip": "172.18.0.2", "prefix": 16, "gateway": "172.18.0.1",
 *                 "mac": "02:42:ac:12:00:02", "internal": false}] (only written when not empty)
 * Absent members read as: network on, no ports, not all ports, no shares,
 * a writable rootfs (older vm.json). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "vmspec.h"

int bx_vmspec_box_to_json(void *json_obj, const struct bx_vmspec *s)
{
	json_t *o = json_obj, *ports = json_array(), *shares = json_array();
	if (!ports || !shares) {
		json_decref(ports);
		json_decref(shares);
		return -1;
	}
	for (int i = 0; i < s->nports; i++) {
		const struct bx_port *p = &s->ports[i];
		json_array_append_new(ports, json_pack("{s:s,s:i,s:i,s:s}", "host_ip", p->host_ip, "host_port",
						       p->host_port, "guest_port", p->guest_port, "proto", p->proto));
	}
	for (int i = 0; i < s->nshares; i++) {
		const struct bx_share *sh = &s->shares[i];
		json_array_append_new(shares, json_pack("{s:s,s:s,s:s,s:b,s:b}", "tag", sh->tag, "source", sh->source,
							"volume", sh->volume, "ro", sh->ro, "file", sh->file));
	}
	json_object_set_new(o, "network", json_boolean(s->network));
	json_object_set_new(o, "ports", ports);
	if (s->all_ports)
		json_object_set_new(o, "all_ports", json_true());
	json_object_set_new(o, "shares", shares);
	if (s->nnets) {
		json_t *nets = json_array();
		if (!nets)
			return -1;
		for (int i = 0; i < s->nnets; i++) {
			const struct bx_vm_net *n = &s->nets[i];
			json_array_append_new(nets, json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:b}", "id", n->id, "name", n->name,
							      "ip", n->ip, "prefix", n->prefix, "gateway", n->gateway,
							      "mac", n->mac, "internal", n->internal));
		}
		json_object_set_new(o, "networks", nets);
	}
	if (s->rootfs_ro)
		json_object_set_new(o, "rootfs_ro", json_true());
	return 0;
}

static int copy_str(json_t *o, const char *key, char *dst, size_t size)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return -1;
	return snprintf(dst, size, "%s", json_string_value(v)) >= (int)size ? -1 : 0;
}

static int int_in(json_t *o, const char *key, int lo, int hi, int *dst)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	*dst = (int)json_integer_value(v);
	return 0;
}

int bx_vmspec_box_from_json(void *json_obj, struct bx_vmspec *s, const char *path, struct bx_err *err)
{
	json_t *o = json_obj;
	json_t *net = json_object_get(o, "network");
	s->network = !net || json_is_true(net);
	s->all_ports = json_is_true(json_object_get(o, "all_ports"));
	s->rootfs_ro = json_is_true(json_object_get(o, "rootfs_ro"));
	json_t *ports = json_object_get(o, "ports"), *shares = json_object_get(o, "shares");
	if ((ports && !json_is_array(ports)) || json_array_size(ports) > BX_MAX_PORTS)
		return bx_fail(err, 0, "%s: \"ports\" is not an array of at most %d entries", path, BX_MAX_PORTS);
	if ((shares && !json_is_array(shares)) || json_array_size(shares) > BX_MAX_SHARES)
		return bx_fail(err, 0, "%s: \"shares\" is not an array of at most %d entries", path, BX_MAX_SHARES);
	size_t i;
	json_t *e;
	json_array_foreach(ports, i, e) {
		struct bx_port *p = &s->ports[i];
		if (copy_str(e, "host_ip", p->host_ip, sizeof(p->host_ip)) < 0 ||
		    int_in(e, "host_port", 1, 65535, &p->host_port) < 0 ||
		    int_in(e, "guest_port", 1, 65535, &p->guest_port) < 0 ||
		    copy_str(e, "proto", p->proto, sizeof(p->proto)) < 0 ||
		    (strcmp(p->proto, "tcp") && strcmp(p->proto, "udp")))
			return bx_fail(err, 0, "%s: ports[%zu] is malformed", path, i);
		s->nports++;
	}
	json_t *nets = json_object_get(o, "networks");
	if ((nets && !json_is_array(nets)) || json_array_size(nets) > BX_MAX_NETS)
		return bx_fail(err, 0, "%s: \"networks\" is not an array of at most %d entries", path, BX_MAX_NETS);
	json_array_foreach(nets, i, e) {
		struct bx_vm_net *n = &s->nets[i];
		if (copy_str(e, "id", n->id, sizeof(n->id)) < 0 || copy_str(e, "name", n->name, sizeof(n->name)) < 0 ||
		    copy_str(e, "ip", n->ip, sizeof(n->ip)) < 0 || int_in(e, "prefix", 8, 30, &n->prefix) < 0 ||
		    copy_str(e, "gateway", n->gateway, sizeof(n->gateway)) < 0 ||
		    copy_str(e, "mac", n->mac, sizeof(n->mac)) < 0)
			return bx_fail(err, 0, "%s: networks[%zu] is malformed", path, i);
		n->internal = json_is_true(json_object_get(e, "internal"));
		s->nnets++;
	}
	json_array_foreach(shares, i, e) {
		struct bx_share *sh = &s->shares[i];
		if (copy_str(e, "tag", sh->tag, sizeof(sh->tag)) < 0 ||
		    copy_str(e, "source", sh->source, sizeof(sh->source)) < 0 || sh->source[0] != '/' ||
		    copy_str(e, "volume", sh->volume, sizeof(sh->volume)) < 0)
			return bx_fail(err, 0, "%s: shares[%zu] is malformed", path, i);
		sh->ro = json_is_true(json_object_get(e, "ro"));
		sh->file = json_is_true(json_object_get(e, "file"));
		s->nshares++;
	}
	return 0;
}

int bx_vm_netconf(const struct bx_vmspec *s, char *out, size_t size)
{
	size_t off = 0;
	out[0] = '\0';
	for (int i = 0; i < s->nnets; i++) {
		int n = snprintf(out + off, size - off, "nic %s %s/%d\n", s->nets[i].mac, s->nets[i].ip, s->nets[i].prefix);
		if (n < 0 || (size_t)n >= size - off)
			return -1;
		off += (size_t)n;
	}
	if (s->nnets) {
		int n = snprintf(out + off, size - off, "dns %s\n", s->nets[0].gateway);
		if (n < 0 || (size_t)n >= size - off)
			return -1;
		off += (size_t)n;
	}
	return (int)off;
}

int bx_vm_spares(const struct bx_vmspec *s)
{
	if (!s->network && !s->nnets)
		return 0; /* --network none stays without a network */
	/* virtio-mmio slots: the rootfs, the shares, passt, the named networks, the balloon, the serial port */
	int used = 1 + s->nshares + (s->network ? 1 : 0) + s->nnets + 2;
	int n = BX_SPARE_NICS;
	if (n > BX_MAX_NETS - s->nnets)
		n = BX_MAX_NETS - s->nnets;
	if (n > BX_VIRTIO_MMIO_SLOTS - used)
		n = BX_VIRTIO_MMIO_SLOTS - used;
	return n > 0 ? n : 0;
}
