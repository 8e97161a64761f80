/* /_ping, /version and /info of the Engine API. */
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "api.h"
#include "route.h"
#include "../box/info.h"
#include "../vm/kernel.h"
#include "../vm/vmspec.h"

/* the docker CLI's version negotiation reads API-Version from this reply
 * (HEAD first, GET when HEAD fails) and then speaks min(its own, ours) */
enum MHD_Result api_ping(struct api_req *r)
{
	bool head = !strcmp(r->method, "HEAD");
	struct MHD_Response *resp = MHD_create_response_from_buffer(head ? 0 : 2, "OK", MHD_RESPMEM_PERSISTENT);
	if (resp) {
		MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
		MHD_add_response_header(resp, "Cache-Control", "no-cache, no-store, must-revalidate");
		MHD_add_response_header(resp, "Pragma", "no-cache");
	}
	return api_reply(r, 200, resp);
}

enum MHD_Result api_version(struct api_req *r)
{
	struct utsname u;
	uname(&u);
	json_t *engine = json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "Name", "Engine", "Version", BOXVM_VERSION, "Details", "ApiVersion",
				   API_VERSION, "MinAPIVersion", API_MIN_VERSION, "Os", "linux", "Arch", "amd64",
				   "KernelVersion", u.release, "Experimental", "false");
	return api_json(r, 200,
			json_pack("{s:{s:s},s:[o],s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Platform", "Name",
				  "boxvm (Docker Engine API)", "Components", engine, "Version", BOXVM_VERSION, "ApiVersion",
				  API_VERSION, "MinAPIVersion", API_MIN_VERSION, "GitCommit", "", "GoVersion", "",
				  "Os", "linux", "Arch", "amd64", "KernelVersion", u.release, "BuildTime", ""));
}

enum MHD_Result api_info(struct api_req *r)
{
	struct bx_err err = {0};
	char accel[8], why[512];
	if (bx_accel_detect(accel, why, sizeof(why), &err) < 0)
		return api_fail(r, &err);
	struct bx_kernel k;
	json_t *o = bx_box_info_json(&r->p, accel, why, bx_kernel_find(&r->p, &k, NULL) == 0 ? k.version : "");
	if (!o)
		return api_error(r, 500, "out of memory");
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	/* Docker's fields the CLI prints, with what boxvm is */
	json_object_set_new(o, "ID", json_string(""));
	json_object_set_new(o, "Name", json_string(host));
	json_object_set_new(o, "OperatingSystem", json_string("boxvm (every box a microVM)"));
	json_object_set_new(o, "LoggingDriver", json_string("json-file"));
	json_object_set_new(o, "CgroupDriver", json_string("none"));
	json_object_set_new(o, "DefaultRuntime", json_string("boxvm"));
	json_object_set_new(o, "Runtimes", json_pack("{s:{s:s}}", "boxvm", "path", "boxvm-runtime"));
	json_object_set_new(o, "IndexServerAddress", json_string("https://index.docker.io/v1/"));
	/* Docker lists its seccomp default; the docker CLI prints these under "Security Options" */
	json_object_set_new(o, "SecurityOptions", json_pack("[s,s]", "name=seccomp,profile=default", "name=microvm"));
	/* a box's memory is its VM's size; its network is its own (passt), not the host's forwarding */
	json_object_set_new(o, "MemoryLimit", json_true());
	json_object_set_new(o, "IPv4Forwarding", json_true());
	json_object_set_new(o, "BridgeNfIptables", json_true());
	json_object_set_new(o, "BridgeNfIp6tables", json_true());
	return api_json(r, 200, o);
}
