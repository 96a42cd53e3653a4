#include "TokenrunCShims.h"

#if defined(__linux__)
#include <sys/prctl.h>

int tokenrun_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0); }

int tokenrun_get_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); }

int tokenrun_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL); }
#else
int tokenrun_set_dumpable(int on) { (void)on; return -1; }

int tokenrun_get_dumpable(void) { return -1; }

int tokenrun_set_parent_death_signal(int signal) { (void)signal; return -1; }
#endif
