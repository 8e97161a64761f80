#include <stdio.h>

#include "cli.h"

int cmd_version(int argc, char **argv)
{
	printf("boxvm version %s\n", BOXVM_VERSION);
	return 0;
}
