/* network connect and disconnect of a box (netconnect.h). */
#include "netconnect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "netlive.h"
#include "../store/networks.h"
#include "../store/state.h"
#include "../vm/vmspec.h"

/* The box ref names, held for a read-modify-write of its vm.json: its start
 * lock (no start reads vm.json meanwhile; the fd, or -1 with err, Docker's
 * "No such container" for an unknown ref) and vm.json read into vm. */
static int box_vm_locked(const struct bx_paths *p, const char *ref, struct bx_box_record *rec, struct bx_vmspec *vm,
			 char *path, size_t size, struct bx_err *err)
{
	if (bx_state_lookup(p, ref, rec, err) < 0) {
		if (err->errnum == ENOENT) {
			bx_fail(err, 0, "No such container: %s", ref);
			err->errnum = ENOENT;
		}
		return -1;
	}
	int lock = bx_state_start_lock(rec->box_dir, err);
	if (lock >= 0 && (bx_path_join(path, size, err, "%s/vm.json", rec->box_dir) < 0 || bx_vmspec_read(path, vm, err) < 0)) {
		close(lock);
		return -1;
	}
	return lock;
}

int bx_box_net_connect(const struct bx_paths *p, const char *net_ref, const char *box_ref, char *const *aliases,
		       const char *ip, char *warn, size_t warn_size, struct bx_err *err)
{
	int n = 0;
	for (char *const *a = aliases; a && *a; a++, n++)
		if (bx_network_name_check(*a, NULL) < 0 || strlen(*a) > 63 || n >= BX_NET_ALIASES_MAX) {
			bx_fail(err, 0, "invalid network alias \"%s\": use a host name (letters, digits, '.', '_', '-'), "
					"at most %d", *a, BX_NET_ALIASES_MAX);
			err->errnum = EINVAL;
			return -1;
		}
	struct bx_box_record rec;
	struct bx_vmspec *vm = calloc(1, sizeof(*vm)); /* large, and the API calls this from many threads */
	if (!vm)
		return bx_fail(err, ENOMEM, "out of memory");
	char path[PATH_MAX];
	int rc = -1;
	int lock = box_vm_locked(p, box_ref, &rec, vm, path, sizeof(path), err);
	if (lock < 0)
		goto out;
	json_t *net;
	if (bx_network_get(p, net_ref, &net, err) < 0)
		goto out;
	json_decref(net);
	if (vm->nnets >= BX_MAX_NETS) {
		bx_fail(err, 0, "box %s is on %d networks, the most a box's VM has room for", rec.name, BX_MAX_NETS);
		goto out;
	}
	if (bx_network_attach(p, net_ref, rec.id, rec.name, aliases, ip, &vm->nets[vm->nnets], err) < 0)
		goto out;
	vm->nnets++;
	if (bx_vmspec_write(path, vm, err) < 0) {
		bx_network_detach(p, net_ref, rec.id, NULL);
		goto out;
	}
	/* a running box joins at once on a spare NIC (its VM's devices are fixed
	 * while it runs: microvm has no hotplug); without one, at its next start */
	struct bx_err why = {0};
	int live = bx_box_net_join_live(p, &rec, &vm->nets[vm->nnets - 1], vm->nnets == 1, &why);
	if (live < 0) {
		struct bx_err ignored;
		*err = why;
		bx_network_detach(p, vm->nets[vm->nnets - 1].id, rec.id, NULL);
		vm->nnets--;
		bx_vmspec_write(path, vm, &ignored);
		goto out;
	}
	rc = 0;
	if (live == 0 && bx_box_is_running(&rec)) {
		snprintf(warn, warn_size, "box %s joins network %s at its next start (boxvm restart %s): %s; "
					  "its peers can resolve it already", rec.name, vm->nets[vm->nnets - 1].name, rec.name, why.msg);
		rc = 1;
	}
out:
	if (lock >= 0)
		close(lock);
	free(vm);
	return rc;
}

int bx_box_net_disconnect(const struct bx_paths *p, const char *net_ref, const char *box_ref, char *warn,
			  size_t warn_size, struct bx_err *err)
{
	struct bx_box_record rec;
	struct bx_vmspec *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return bx_fail(err, ENOMEM, "out of memory");
	char path[PATH_MAX];
	json_t *net = NULL;
	int rc = -1;
	int lock = box_vm_locked(p, box_ref, &rec, vm, path, sizeof(path), err);
	if (lock < 0 || bx_network_get(p, net_ref, &net, err) < 0)
		goto out;
	char net_id[65];
	snprintf(net_id, sizeof(net_id), "%s", json_string_value(json_object_get(net, "Id")));
	json_decref(net);
	if (bx_network_detach(p, net_id, rec.id, err) < 0)
		goto out;
	int k = 0;
	struct bx_vm_net gone = {0};
	for (int i = 0; i < vm->nnets; i++)
		if (strcmp(vm->nets[i].id, net_id))
			vm->nets[k++] = vm->nets[i];
		else
			gone = vm->nets[i];
	vm->nnets = k;
	if (bx_vmspec_write(path, vm, err) < 0)
		goto out;
	/* a running box leaves at once: its tap is taken off the bridge (and
	 * becomes a spare NIC again), its guest takes the address down */
	struct bx_err why;
	rc = 0;
	if (gone.id[0] && bx_box_net_leave_live(p, &rec, vm, &gone, &why) < 0) {
		snprintf(warn, warn_size, "%s", why.msg);
		rc = 1;
	}
out:
	if (lock >= 0)
		close(lock);
	free(vm);
	return rc;
}
