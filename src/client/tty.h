/* The host terminal during an interactive session: raw mode that is always
 * restored (normal return, errors, fatal signals, exit), and its size. */
#ifndef BOXVM_CLI_TTY_H
#define BOXVM_CLI_TTY_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/err.h"

/* Put the terminal on fd into raw mode (saved first; nested calls are refused). */
int bx_tty_raw(int fd, struct bx_err *err);
/* Restore what bx_tty_raw saved (idempotent, async-signal-safe). */
void bx_tty_restore(void);
/* The terminal's size; false if fd is not a terminal or reports 0x0. */
bool bx_tty_size(int fd, uint16_t *rows, uint16_t *cols);

#endif
