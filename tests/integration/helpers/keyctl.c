/* keyctl(KEYCTL_GET_KEYRING_ID, session keyring): a syscall Docker's default
 * seccomp profile refuses (EPERM) and no capability guards. Prints "ok" or
 * the error, exits 0 or 1 (test_seccomp.py runs it in a box). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	long id = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 1);
	if (id < 0) {
		printf("keyctl: %s\n", strerror(errno));
		return 1;
	}
	printf("ok\n");
	return 0;
}
