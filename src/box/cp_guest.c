/* The guest's half of cp with a running box (cp_guest.h). */
#include "cp_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../client/exec_client.h"
#include "../common/safetext.h"
#include "../proto/spec.h"

/* box -> host: $1 dir, $2 name, $3 tar's create flags (-cf, or -chf), $4 "." for the contents of $1/$2 */
static const char *const guest_pack =
	"[ -e \"$1/$2\" ] || [ -L \"$1/$2\" ] || { echo \"boxvm: cp: no such file or directory in the box: $1/$2\" >&2; exit 2; }\n"
	"if [ -n \"$4\" ]; then\n"
	"  [ -d \"$1/$2\" ] || { echo \"boxvm: cp: not a directory in the box: $1/$2\" >&2; exit 2; }\n"
	"  exec tar \"$3\" - -C \"$1/$2\" .\n"
	"fi\n"
	"exec tar \"$3\" - -C \"$1\" -- \"$2\"\n";

/* host -> box: $1 dest, $2 the name inside the tar ("" = unpack as is into
 * $1; "." = a directory's contents, $1 made if missing) */
static const char *const guest_unpack =
	"set -e\n"
	"if [ -z \"$2\" ] || [ -d \"$1\" ]; then exec tar -xf - -C \"$1\"; fi\n"
	"case \"$1\" in */) echo \"boxvm: cp: no such directory in the box: $1\" >&2; exit 2;; esac\n"
	"[ \"$2\" != . ] || [ ! -e \"$1\" ] || { echo \"boxvm: cp: cannot copy a directory's contents to a file: $1\" >&2; exit 2; }\n"
	"p=$(dirname \"$1\")\n"
	"[ -d \"$p\" ] || { echo \"boxvm: cp: no such directory in the box: $p\" >&2; exit 2; }\n"
	"t=$(mktemp -d \"$p/.boxvm-cp.XXXXXX\")\n"
	"trap 'rm -rf \"$t\"' EXIT\n"
	"tar -xf - -C \"$t\"\n"
	"if [ \"$2\" = . ]; then mv \"$t\" \"$1\"; else mv -f \"$t/$2\" \"$1\"; fi\n";

/* $1 path: "SIZE RAWMODE(hex) MTIME" and, for a symlink, its target on the
 * next line (resolved, as Docker's linkTarget; as written when it dangles) */
static const char *const guest_stat =
	"[ -e \"$1\" ] || [ -L \"$1\" ] || exit 2\n"
	"stat -c '%s %f %Y' -- \"$1\" || exit 1\n"
	"if [ -L \"$1\" ]; then readlink -f -- \"$1\" || readlink -- \"$1\"; fi\n";

static int guest_sh(struct bx_spec *spec, const char *script, const char *const *args, size_t n, struct bx_err *err)
{
	const char *head[] = {"sh", "-c", script, "sh"};
	for (size_t i = 0; i < 4; i++)
		if (bx_spec_add_arg(spec, head[i], err) < 0)
			return -1;
	for (size_t i = 0; i < n; i++)
		if (bx_spec_add_arg(spec, args[i], err) < 0)
			return -1;
	/* root in /: cp reaches every path, as docker cp does */
	return bx_spec_set_user(spec, "0", err) < 0 || bx_spec_set_cwd(spec, "/", err) < 0 ? -1 : 0;
}

static int run(const struct bx_box_record *box, const char *script, const char *const *args, size_t n, bool in,
	       const struct bx_relay_opts *o, struct bx_err *err)
{
	struct bx_spec spec;
	bx_spec_init(&spec);
	spec.stdin_open = in;
	int code = guest_sh(&spec, script, args, n, err) < 0 ? -1 : bx_exec_run_internal(box, &spec, o, err);
	bx_spec_free(&spec);
	return code;
}

int bx_cp_guest_pack(const struct bx_box_record *box, const char *dir, const char *name, bool follow, bool contents,
		     const struct bx_relay_opts *o, struct bx_err *err)
{
	const char *args[] = {dir, name, follow ? "-chf" : "-cf", contents ? "." : ""};
	return run(box, guest_pack, args, 4, false, o, err);
}

int bx_cp_guest_unpack(const struct bx_box_record *box, const char *dest, const char *name,
		       const struct bx_relay_opts *o, struct bx_err *err)
{
	const char *args[] = {dest, name};
	return run(box, guest_unpack, args, 2, true, o, err);
}

int bx_cp_guest_capture(const char *name)
{
	/* a fixed size, sealed: a guest that says more gets a failed write, not host memory */
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd >= 0 && (ftruncate(fd, BX_CP_GUEST_CAPTURE_MAX) < 0 ||
			fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

void bx_cp_guest_said(int fd, char *out, size_t size)
{
	char line[256];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	line[n > 0 ? n : 0] = 0;
	line[strcspn(line, "\n")] = 0; /* (and the NUL fill after it) */
	bx_safe_text(out, size, line, strlen(line));
}

int bx_cp_guest_stat(const struct bx_box_record *box, const char *path, struct bx_cp_stat *st, struct bx_err *err)
{
	memset(st, 0, sizeof(*st));
	/* the answer is a line or two: a memory file holds it (and whatever the guest says on stderr) */
	int out = bx_cp_guest_capture("cp-stat"), errfd = bx_cp_guest_capture("cp-stat-err");
	int rc = -1;
	if (out < 0 || errfd < 0) {
		bx_fail(err, errno, "memfd_create");
		goto done;
	}
	struct bx_relay_opts o = {.in_fd = -1, .out_fd = out, .err_fd = errfd, .what = "box"};
	const char *args[] = {path};
	int code = run(box, guest_stat, args, 1, false, &o, err);
	if (code < 0)
		goto done;
	if (code == BX_CP_GUEST_MISSING) {
		rc = 0;
		goto done;
	}
	char buf[8192] = "";
	ssize_t n = pread(out, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	if (code != 0 || sscanf(buf, "%lld %x %lld", &st->size, &st->mode, &st->mtime_s) != 3) {
		char msg[256];
		bx_cp_guest_said(errfd, msg, sizeof(msg));
		bx_fail(err, 0, "cannot stat %s in box %.12s%s%s", path, box->id, msg[0] ? ": " : "", msg);
		goto done;
	}
	char *nl = strchr(buf, '\n');
	if (nl && nl[1]) {
		snprintf(st->link, sizeof(st->link), "%s", nl + 1);
		st->link[strcspn(st->link, "\n")] = 0;
	}
	rc = 1;
done:
	if (out >= 0)
		close(out);
	if (errfd >= 0)
		close(errfd);
	return rc;
}
