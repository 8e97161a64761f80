/* Text from an untrusted peer (a guest's ERROR messages, its console, names it
 * reports) made safe to print on a user's terminal or to write as one log
 * line: it must not be able to move the cursor, retitle the window, clear the
 * screen, fake or hide lines, or reorder what is displayed around it.
 * A process's own stdout/stderr stream is not text of this kind: it goes out
 * untouched, as Docker does. */
#ifndef BOXVM_SAFETEXT_H
#define BOXVM_SAFETEXT_H

#include <stddef.h>

/* Output size that holds any input of len bytes whole: each byte may become
 * a 4-byte escape, plus the NUL. */
#define BX_SAFE_TEXT_SIZE(len) ((len) * 4 + 1)

/* Copy in[0..len) into out[0..size) (size > 0), always NUL-terminated, and
 * return the length written. Printable ASCII and well-formed UTF-8 of
 * printable code points pass unchanged; every other byte becomes the escape
 * "\xNN": C0 controls (ESC, CR, LF, TAB, BS, NUL...), DEL, the C1 controls
 * U+0080-U+009F (a terminal's 8-bit CSI/OSC), the invisible direction marks
 * and bidi overrides (U+061C, U+200E-F, U+2028-9, U+202A-E, U+2066-9), and
 * malformed UTF-8 (stray or missing continuation bytes, overlong forms,
 * surrogates, beyond U+10FFFF). What does not fit is cut at a character
 * boundary, never inside a sequence or an escape. */
size_t bx_safe_text(char *out, size_t size, const void *in, size_t len);

#endif
