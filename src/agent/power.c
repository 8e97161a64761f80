/* Ending the VM. PID 1 must never exit (the kernel would panic, and with
 * panic=-1 reboot), so every end goes through here. */
#include "agent.h"

#include <sys/reboot.h>
#include <unistd.h>

void agent_poweroff(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* QEMU runs with -no-reboot, so a reset ends the VM as well */
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}
