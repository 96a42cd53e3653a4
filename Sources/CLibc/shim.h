// The few libc calls tokenrun's Embedded Swift helpers (tokenrun-http,
// tokenrun-pg) make: Embedded Swift has no Glibc overlay. Reached only through
// Sources/TokenrunHelperKit and the helpers' own wrappers.
#ifndef TOKENRUN_CLIBC_SHIM_H
#define TOKENRUN_CLIBC_SHIM_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static inline int tokenrun_errno(void) { return errno; }

/// open(path, O_RDONLY | O_CLOEXEC): open is variadic, which Swift cannot call.
static inline int tokenrun_open_read(const char *path) { return open(path, O_RDONLY | O_CLOEXEC); }

#endif
