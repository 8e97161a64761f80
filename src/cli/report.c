/* The CLI's error reporting, shared by boxvm-cli (main.c) and the `boxvm`
 * front (front.c): see cli.h and main.c for the mapping. */
#include <stdio.h>
#include <string.h>

#include "../common/safetext.h"
#include "cli.h"

enum error_codes cli_error_codes = ERRORS_EXIT_1;

int cli_error_exit(void)
{
	return cli_error_codes == ERRORS_RUN ? BX_EXIT_ERROR : 1;
}

int bx_cli_report(const struct bx_err *err)
{
	/* messages may quote a guest or an image: never raw to the terminal */
	char text[BX_SAFE_TEXT_SIZE(sizeof(err->msg))];
	bx_safe_text(text, sizeof(text), err->msg, strnlen(err->msg, sizeof(err->msg)));
	fprintf(stderr, "boxvm: %s\n", text[0] ? text : "unknown error");
	int code = err->exit_code;
	if (code > 255)
		return code - CLI_EXIT_ALWAYS(0);
	if (cli_error_codes == ERRORS_RUN && code > 0)
		return code;
	return cli_error_exit();
}
