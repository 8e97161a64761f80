/* Cleanup attributes for the host's C: a variable declared with one of these
 * is released when it goes out of scope, so an early `return -1` needs no
 * hand-written unwinding. Each helper ignores the "nothing held" value
 * (NULL, -1, 0), so a variable may be handed off by resetting it. */
#ifndef BOXVM_COMMON_CLEANUP_H
#define BOXVM_COMMON_CLEANUP_H

#include <dirent.h>
#include <stdio.h>
#include <sys/types.h>

struct json_t; /* jansson's json_t, without making every user include jansson.h */

void bx_freep(void *p);                  /* free(*(void **)p) */
void bx_closep(int *fd);                 /* close(*fd) if >= 0 */
void bx_closedirp(DIR **d);              /* closedir(*d) if non-NULL */
void bx_fclosep(FILE **f);               /* fclose(*f) if non-NULL (a read stream: errors are the reader's) */
void bx_json_decrefp(struct json_t **j); /* json_decref(*j) */
void bx_child_reapp(pid_t *pid);         /* a child still held (> 0): SIGKILL, then waitpid */

#define _cleanup_free_ __attribute__((cleanup(bx_freep)))
#define _cleanup_close_ __attribute__((cleanup(bx_closep)))
#define _cleanup_dir_ __attribute__((cleanup(bx_closedirp)))
#define _cleanup_file_ __attribute__((cleanup(bx_fclosep)))
#define _cleanup_json_ __attribute__((cleanup(bx_json_decrefp)))
#define _cleanup_child_ __attribute__((cleanup(bx_child_reapp)))

/* Hand a held value over (to a caller, a struct): the variable no longer owns it. */
#define BX_TAKE_PTR(p) ({ __typeof__(p) _taken = (p); (p) = NULL; _taken; })
#define BX_TAKE_FD(fd) ({ int _taken = (fd); (fd) = -1; _taken; })

#endif
