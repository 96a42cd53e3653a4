// C calls that Swift cannot make directly (variadic prctl). Prefixed symbols;
// only Sources/TokenrunKit/Support/ProcessHardening.swift uses them.
#ifndef TOKENRUN_C_SHIMS_H
#define TOKENRUN_C_SHIMS_H

/// prctl(PR_SET_DUMPABLE, on): 0 makes the process non-dumpable (no core file, no ptrace by peers).
int tokenrun_set_dumpable(int on);

/// prctl(PR_GET_DUMPABLE): 1 when dumpable, 0 when not, -1 on error.
int tokenrun_get_dumpable(void);

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` when the parent dies; -1 where unsupported.
int tokenrun_set_parent_death_signal(int signal);

#endif
