/* The names a network's boxes resolve, read from the store's records
 * (src/store/networks.h). Docker's rules: on a user network a box resolves
 * its peers' names, aliases and short IDs, on every network it has joined. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../store/networks.h"
#include "../store/state.h"
#include "netd.h"

static int add_name(struct bx_dns_table *t, size_t *cap, const char *name, uint32_t ip, int net)
{
	if (!name || !*name || strlen(name) >= sizeof(t->names[0].name))
		return 0;
	if (t->nnames == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct bx_dns_name *nn = realloc(t->names, nc * sizeof(*nn));
		if (!nn)
			return -1;
		t->names = nn;
		*cap = nc;
	}
	struct bx_dns_name *e = &t->names[t->nnames++];
	size_t i = 0;
	for (; name[i]; i++)
		e->name[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
	e->name[i] = '\0';
	e->ip = ip;
	e->net = net;
	return 0;
}

/* Docker's DNS answers for running boxes only: a stopped or created box's
 * name is not found (its address stays reserved for it) */
static bool member_runs(const struct bx_paths *p, const char *box_id)
{
	struct bx_box_record rec;
	return bx_state_lookup(p, box_id, &rec, NULL) == 0 && bx_box_is_running(&rec);
}

static uint32_t member_ip(json_t *m)
{
	char addr[24];
	uint32_t ip = 0;
	const char *a = json_string_value(json_object_get(m, "IPv4Address"));
	if (!a || snprintf(addr, sizeof(addr), "%s", a) >= (int)sizeof(addr))
		return 0;
	addr[strcspn(addr, "/")] = '\0';
	return bx_ip_parse(addr, &ip) == 0 ? ip : 0;
}

void netd_table_free(struct bx_dns_table *t)
{
	free(t->names);
	free(t->queriers);
	memset(t, 0, sizeof(*t));
}

int netd_table_load(const struct bx_paths *p, const char *net_id, struct bx_dns_table *t, struct bx_cidr *subnet,
		    uint32_t *gateway, int *internal, struct bx_err *err)
{
	json_t *all;
	memset(t, 0, sizeof(*t));
	if (bx_network_list(p, &all, err) < 0)
		return -1;
	json_t *mine = NULL;
	size_t i, cap = 0;
	json_t *r;
	json_array_foreach(all, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "Id")), net_id))
			mine = r;
	if (!mine) {
		json_decref(all);
		return bx_fail(err, 0, "network %.12s is not in the store", net_id);
	}
	bx_cidr_parse(json_string_value(json_object_get(mine, "Subnet")), subnet, NULL);
	bx_ip_parse(json_string_value(json_object_get(mine, "Gateway")), gateway);
	*internal = json_is_true(json_object_get(mine, "Internal"));
	json_t *own = json_object_get(mine, "Containers");
	t->queriers = calloc(json_object_size(own) + 1, sizeof(*t->queriers));
	if (!t->queriers)
		goto oom;
	/* the boxes of this network, then the networks each is on */
	const char *bid;
	json_t *m;
	json_object_foreach(own, bid, m) {
		uint32_t ip = member_ip(m);
		if (!ip)
			continue;
		struct bx_dns_querier *q = &t->queriers[t->nqueriers++];
		q->ip = ip;
		json_array_foreach(all, i, r)
			if (i < 64 && json_object_get(json_object_get(r, "Containers"), bid))
				q->nets |= 1ull << i;
	}
	json_array_foreach(all, i, r) {
		if (i >= 64)
			break;
		json_object_foreach(json_object_get(r, "Containers"), bid, m) {
			uint32_t ip = member_ip(m);
			char shortid[13];
			snprintf(shortid, sizeof(shortid), "%.12s", bid);
			if (!ip || !member_runs(p, bid))
				continue;
			if (add_name(t, &cap, json_string_value(json_object_get(m, "Name")), ip, (int)i) < 0 ||
			    add_name(t, &cap, shortid, ip, (int)i) < 0)
				goto oom;
			size_t k;
			json_t *al;
			json_array_foreach(json_object_get(m, "Aliases"), k, al)
				if (k < BX_NET_ALIASES_MAX && add_name(t, &cap, json_string_value(al), ip, (int)i) < 0)
					goto oom;
		}
	}
	json_decref(all);
	return 0;
oom:
	json_decref(all);
	netd_table_free(t);
	return bx_fail(err, 0, "out of memory");
}
