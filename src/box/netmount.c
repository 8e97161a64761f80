/* Applying the network and mount flags of `run` (see run_netmount.h). */
#include "netmount.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/networks.h"

static size_t count(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void bx_netmount_free(struct bx_netmount *nm)
{
	bx_strv_free(nm->publish);
	bx_strv_free(nm->dns);
	bx_strv_free(nm->dns_search);
	bx_strv_free(nm->dns_options);
	bx_strv_free(nm->add_hosts);
	bx_strv_free(nm->aliases);
	bx_strv_free(nm->volumes);
	bx_strv_free(nm->tmpfs);
	free(nm->reqs);
	nm->reqs = NULL;
	json_decref(nm->mounts_view);
	nm->mounts_view = NULL;
}

/* after bx_netmount_check: nm->network_on and nm->ports are parsed */
static int apply_network(const struct bx_paths *p, struct bx_netmount *nm, struct bx_spec *spec,
			 struct bx_box_opts *bo, struct bx_err *err)
{
	if (nm->named) {
		json_t *rec;
		if (bx_network_get(p, nm->network, &rec, err) < 0) {
			if (err && err->errnum == ENOENT) /* Docker's words for run */
				bx_fail(err, 0, "network %s not found (create it with: boxvm network create %s)",
					nm->network, nm->network);
			return -1;
		}
		/* an internal network alone has no way out: no passt, no published port */
		nm->network_on = !json_is_true(json_object_get(rec, "Internal"));
		json_decref(rec);
		if (!nm->network_on && nm->nports)
			return bx_fail(err, 0, "network %s is internal (no way out of it): no port can be published",
				       nm->network);
	}
	bool network = nm->network_on;
	size_t nports = (size_t)nm->nports;
	size_t nhosts = count(nm->add_hosts);
	char **lines = calloc(nhosts + 1, sizeof(char *));
	if (!lines)
		return bx_fail(err, 0, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < nhosts && rc == 0; i++) {
		char line[512];
		rc = bx_add_host_parse(nm->add_hosts[i], line, sizeof(line), err);
		if (rc == 0 && !(lines[i] = strdup(line)))
			rc = bx_fail(err, 0, "out of memory");
	}
	char *hosts = NULL, *resolv = NULL;
	if (rc == 0)
		rc = bx_etc_hosts(spec->hostname, network, lines, &hosts, err);
	/* without a network the image's file stays unless a --dns flag asks for one; the text is
	 * part of the box's spec (in its initrd), so every later `start` writes it again */
	if (rc == 0 && (network || nm->dns || nm->dns_search || nm->dns_options))
		rc = bx_etc_resolv(nm->dns, nm->dns_search, nm->dns_options, &resolv, err);
	if (rc == 0)
		rc = bx_spec_set_etc(spec, hosts, resolv, err);
	if (rc == 0 && network)
		rc = bx_spec_set_net(spec, BX_NET_GUEST_ADDR "/24", BX_NET_GATEWAY, BX_NET_MTU, err);
	free(hosts);
	free(resolv);
	bx_strv_free(lines);
	if (rc < 0)
		return -1;
	/* last: the port check is the step with a side effect on the host (none lasting) */
	if (bx_ports_reserve(nm->ports, (int)nports, err) < 0)
		return -1;
	bo->network = network;
	bo->ports = nm->ports;
	bo->nports = (int)nports;
	return 0;
}

static int apply_mounts(const struct bx_paths *p, struct bx_netmount *nm, struct bx_spec *spec,
			struct bx_box_opts *bo, struct bx_err *err)
{
	size_t nv = count(nm->volumes), nt = count(nm->tmpfs), ni = count(nm->image_volumes), n = nv + nt;
	if (n + ni == 0)
		return (nm->mounts_view = bx_mounts_docker_json(NULL, 0, NULL, 0)) ? 0 : bx_fail(err, ENOMEM, "out of memory");
	struct bx_mount_req *reqs = calloc(n + ni, sizeof(*reqs));
	if (!reqs)
		return bx_fail(err, 0, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < nv && rc == 0; i++)
		rc = bx_volume_flag_parse(nm->volumes[i], &reqs[i], err);
	for (size_t i = 0; i < nt && rc == 0; i++)
		rc = bx_tmpfs_flag_parse(nm->tmpfs[i], &reqs[nv + i], err);
	/* Docker: each of the image's VOLUMEs is an anonymous volume unless the
	 * user mounts something there; the image's text is checked like a -v /PATH */
	for (size_t i = 0; i < ni && rc == 0; i++) {
		const char *t = nm->image_volumes[i];
		if (strchr(t, ':') || *t != '/') {
			rc = bx_fail(err, 0, "the image declares an invalid volume '%s': it must be an absolute path", t);
			break;
		}
		struct bx_mount_req r;
		if ((rc = bx_volume_flag_parse(t, &r, err)) < 0)
			break;
		bool taken = false;
		for (size_t j = 0; j < n && !taken; j++)
			taken = !strcmp(reqs[j].target, r.target);
		if (!taken)
			reqs[n++] = r;
	}
	if (rc == 0)
		rc = bx_mounts_order(reqs, n, err);
	int nshares = 0;
	if (rc == 0)
		rc = bx_mounts_resolve(p, reqs, n, nm->shares, &nshares, spec, err);
	if (rc == 0 && !(nm->mounts_view = bx_mounts_docker_json(reqs, n, nm->shares, nshares)))
		rc = bx_fail(err, ENOMEM, "out of memory");
	if (rc < 0) {
		free(reqs);
		return -1;
	}
	nm->reqs = reqs;
	nm->nreqs = n;
	bo->shares = nm->shares;
	bo->nshares = nshares;
	return 0;
}

int bx_netmount_check(struct bx_netmount *nm, struct bx_err *err)
{
	for (char **v = nm->volumes; v && *v; v++) {
		struct bx_mount_req r;
		if (bx_volume_flag_parse(*v, &r, err) < 0)
			return -1;
	}
	for (char **t = nm->tmpfs; t && *t; t++) {
		struct bx_mount_req r;
		if (bx_tmpfs_flag_parse(*t, &r, err) < 0)
			return -1;
	}
	nm->network_on = true;
	nm->named = false;
	const char *net = nm->network;
	if (net && !strncmp(net, "container:", 10))
		return bx_fail(err, 0, "--network %s is not supported: every box is a VM with a network stack of its own, "
				       "which another box cannot share; put both boxes on one network instead "
				       "(boxvm network create NET; --network NET)", net);
	if (net && !strcmp(net, "host"))
		return bx_fail(err, 0, "--network host is not supported: every box is a VM with a network stack of its own; "
				       "publish ports with -p instead");
	if (net && strcmp(net, "default") && strcmp(net, "bridge") && strcmp(net, "none")) {
		if (bx_network_name_check(net, err) < 0)
			return -1;
		nm->named = true;
	} else if (net && bx_network_parse(net, &nm->network_on, err) < 0) {
		return -1;
	}
	if (nm->aliases && !nm->named)
		return bx_fail(err, 0, "network-scoped alias is supported only for containers in user defined networks");
	if (nm->ip && !nm->named)
		return bx_fail(err, 0, "user specified IP address is supported on user defined networks only");
	for (char **al = nm->aliases; al && *al; al++) {
		struct bx_err e;
		if (bx_network_name_check(*al, &e) < 0 || strlen(*al) > 63)
			return bx_fail(err, 0, "invalid network alias \"%s\": use a host name (letters, digits, '.', '_', '-')",
				       *al);
	}
	if (count(nm->aliases) > BX_NET_ALIASES_MAX)
		return bx_fail(err, 0, "at most %d network aliases", BX_NET_ALIASES_MAX);
	/* a -p range counts one port per port */
	nm->nports = 0;
	for (char **s = nm->publish; s && *s; s++) {
		int k = bx_publish_parse(*s, &nm->ports[nm->nports], BX_MAX_PORTS - nm->nports, err);
		if (k < 0)
			return -1;
		nm->nports += k;
	}
	if (nm->nports && !nm->network_on)
		return bx_fail(err, 0, "conflicting options: port publishing and the container type network mode "
				       "(--network none has no ports to publish)");
	for (char **d = nm->dns; d && *d; d++)
		if (bx_dns_parse(*d, err) < 0)
			return -1;
	for (char **d = nm->dns_search; d && *d; d++)
		if (bx_dns_search_parse(*d, err) < 0)
			return -1;
	for (char **d = nm->dns_options; d && *d; d++)
		if (bx_dns_option_parse(*d, err) < 0)
			return -1;
	for (char **h = nm->add_hosts; h && *h; h++) {
		char line[512];
		if (bx_add_host_parse(*h, line, sizeof(line), err) < 0)
			return -1;
	}
	return 0;
}

int bx_netmount_apply(const struct bx_paths *p, struct bx_netmount *nm, struct bx_spec *spec,
		       struct bx_box_opts *bo, struct bx_err *err)
{
	spec->read_only = nm->read_only;
	/* bx_netmount_check ran first (the pure part); now the host side effects (ports probed, volumes/dirs created) */
	if (apply_network(p, nm, spec, bo, err) < 0)
		return -1;
	return apply_mounts(p, nm, spec, bo, err);
}

int bx_netmount_join(const struct bx_paths *p, struct bx_netmount *nm, const char *box_id, const char *box_name,
		      struct bx_box_opts *bo, struct bx_err *err)
{
	if (!nm->named)
		return 0;
	if (bx_network_attach(p, nm->network, box_id, box_name, nm->aliases, nm->ip, &nm->nets[0], err) < 0)
		return -1;
	nm->nnets = 1;
	bo->nets = nm->nets;
	bo->nnets = 1;
	return 0;
}

int bx_netmount_populate(const struct bx_netmount *nm, const char *rootfs, struct bx_err *err)
{
	int k = 0; /* one share per bind or volume, in request order (bx_mounts_resolve) */
	for (size_t i = 0; i < nm->nreqs; i++) {
		const struct bx_mount_req *r = &nm->reqs[i];
		if (r->kind == BX_MNT_TMPFS)
			continue;
		if (r->kind == BX_MNT_VOLUME && !r->nocopy && bx_volume_populate(rootfs, r->target, nm->shares[k].source, err) < 0)
			return -1;
		k++;
	}
	return 0;
}

static json_t *strv_array(char **v, bool null_if_empty)
{
	if (!v && null_if_empty)
		return json_null();
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

json_t *bx_netmount_host_config(const struct bx_netmount *nm)
{
	/* Docker: [] for the DNS lists when not given, null for ExtraHosts */
	return json_pack("{s:s,s:o,s:o,s:o,s:o,s:b}", "NetworkMode", nm->network ? nm->network : "default", "Dns",
			 strv_array(nm->dns, false), "DnsSearch", strv_array(nm->dns_search, false), "DnsOptions",
			 strv_array(nm->dns_options, false), "ExtraHosts", strv_array(nm->add_hosts, true),
			 "ReadonlyRootfs", nm->read_only);
}
