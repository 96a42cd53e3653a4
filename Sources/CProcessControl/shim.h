// Process-control calls that Swift cannot import as they are: prctl(2) is
// variadic. Header-only, static inline, prefixed with tokenrun_.
#ifndef TOKENRUN_CPROCESSCONTROL_SHIM_H
#define TOKENRUN_CPROCESSCONTROL_SHIM_H
#if defined(__linux__)
#include <sys/prctl.h>
#endif

/// Asks the kernel to send `signal` to this process when its parent dies
/// (Linux); returns 0, or -1 where that is not supported.
static inline int tokenrun_set_parent_death_signal(int signal) {
#if defined(__linux__)
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
#else
    (void)signal;
    return -1;
#endif
}
#endif
