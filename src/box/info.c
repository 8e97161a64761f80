/* What boxvm says about itself (info.h). */
#include "info.h"

#include <stdlib.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../image/image.h"
#include "../store/state.h"
#include "../vm/cgroup.h"

json_t *bx_box_info_json(const struct bx_paths *p, const char *accel, const char *why, const char *guest_kernel)
{
	struct bx_box_record *boxes = NULL;
	size_t n = 0;
	int running = 0, paused = 0;
	if (bx_state_list(p, &boxes, &n, NULL) == 0)
		for (size_t i = 0; i < n; i++) {
			paused += boxes[i].status == BX_BOX_PAUSED;
			running += bx_box_status_live(boxes[i].status) && boxes[i].status != BX_BOX_PAUSED;
		}
	free(boxes);
	struct bx_image *imgs = NULL;
	size_t nimg = 0;
	if (bx_image_list(p, &imgs, &nimg, NULL) == 0) {
		for (size_t i = 0; i < nimg; i++)
			bx_image_free(&imgs[i]);
		free(imgs);
	}
	struct utsname u;
	uname(&u);
	struct sysinfo si;
	sysinfo(&si);
	int cg_version;
	char cg_why[256];
	unsigned cg = bx_cgroup_support(&cg_version, cg_why, sizeof(cg_why));
	json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ServerVersion",
			 BOXVM_VERSION, "Containers", (json_int_t)n, "ContainersRunning", (json_int_t)running,
			 "ContainersPaused", (json_int_t)paused, "ContainersStopped", (json_int_t)(n - (size_t)running - (size_t)paused),
			 "Images", (json_int_t)nimg, "Driver", "virtiofs", "DockerRootDir", p->data, "NCPU",
			 (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "MemTotal", (json_int_t)si.totalram * (json_int_t)si.mem_unit,
			 "OSType", "linux", "Architecture", u.machine, "KernelVersion", u.release, "Accelerator", accel,
			 "AcceleratorReason", why, "GuestKernel", guest_kernel, "GuestKernelKind", p->kernel_kind, "RuntimeDir", p->run);
	/* Docker's keys for the host cgroup of boxes' VMs, and its warnings */
	if (o) {
		json_object_set_new(o, "CgroupDriver", json_string(cg ? "cgroupfs" : "none"));
		json_object_set_new(o, "CgroupVersion", json_string(cg_version ? (cg_version == 1 ? "1" : "2") : ""));
		json_object_set_new(o, "Warnings", cg_why[0] ? json_pack("[s]", cg_why) : json_array());
	}
	return o;
}

