// C calls that Swift cannot make directly (variadic prctl and syscall, code between
// fork and exec, a signal handler). Prefixed symbols; only
// Sources/TokenrunSupport/ProcessHardening.swift (prctl),
// Sources/TokenrunVault/KeyringCache.swift (the kernel keyring),
// Sources/TokenrunSupport/ChildProcess.swift (spawning for the user) and
// Sources/TokenrunSupport/PromptSignals.swift (the passphrase prompt) use them.
#ifndef TOKENRUN_C_SHIMS_H
#define TOKENRUN_C_SHIMS_H

#include <stddef.h>
#include <stdint.h>

/// prctl(PR_SET_DUMPABLE, on): 0 makes the process non-dumpable (no core file, no ptrace by peers).
int tokenrun_set_dumpable(int on);

/// prctl(PR_GET_DUMPABLE): 1 when dumpable, 0 when not, -1 on error.
int tokenrun_get_dumpable(void);

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` when the parent dies; -1 where unsupported.
int tokenrun_set_parent_death_signal(int signal);

// The kernel key retention service (keyrings(7)): add_key(2) and keyctl(2), which
// glibc reaches only through the variadic syscall(2). Serials are key_serial_t
// (int32_t); a negative keyring is a special one (-1 thread, -3 session, -5 user
// session). Every call returns -1 and sets errno on failure; ENOSYS where there
// are no keyrings (not Linux, or a seccomp filter).

/// add_key(type, description, payload, length, keyring): the key's serial.
int32_t tokenrun_key_add(const char *type, const char *description, const void *payload, size_t length, int32_t keyring);

/// keyctl(KEYCTL_GET_KEYRING_ID, keyring, create): the serial of a special keyring.
int32_t tokenrun_key_keyring_id(int32_t keyring, int create);

/// keyctl(KEYCTL_SEARCH, keyring, type, description, 0): the serial of a matching key reachable from `keyring`.
int32_t tokenrun_key_search(int32_t keyring, const char *type, const char *description);

/// keyctl(KEYCTL_READ, key, buffer, length): the payload's length; copies it only when it fits.
long tokenrun_key_read(int32_t key, void *buffer, size_t length);

/// keyctl(KEYCTL_SET_TIMEOUT, key, seconds): the key expires `seconds` from now (0 would mean never).
int tokenrun_key_set_timeout(int32_t key, unsigned int seconds);

/// keyctl(KEYCTL_SETPERM, key, permissions).
int tokenrun_key_set_perm(int32_t key, uint32_t permissions);

/// keyctl(KEYCTL_LINK, key, keyring): displaces a key of the same type and description there.
int tokenrun_key_link(int32_t key, int32_t keyring);

/// keyctl(KEYCTL_UNLINK, key, keyring).
int tokenrun_key_unlink(int32_t key, int32_t keyring);

/// keyctl(KEYCTL_INVALIDATE, key): the key is gone at once from every keyring.
int tokenrun_key_invalidate(int32_t key);

/// keyctl(KEYCTL_REVOKE, key): the key can no longer be read (for kernels without KEYCTL_INVALIDATE).
int tokenrun_key_revoke(int32_t key);


// Starting a program on the user's behalf (the command, a re-auth hook, a browser).
// posix_spawn cannot run code between fork and exec; this does, in the child:
// every handler back to default (`default_signals` also from "ignored"), an empty
// signal mask, the caller's umask and core limit, a new anonymous session keyring
// (KEYCTL_JOIN_SESSION_KEYRING; skipped where the kernel offers no keyrings), the
// standard descriptors, then execve with a PATH search as posix_spawnp does.
// Only async-signal-safe calls run in the child.

/// What `tokenrun_spawn_user` does with standard descriptor i: inherit it, open /dev/null, or dup2 from fd >= 0.
enum { TOKENRUN_STDIO_INHERIT = -1, TOKENRUN_STDIO_NULL = -2 };

/// Which step failed in the child (`failed_step`).
enum { TOKENRUN_SPAWN_STEP_EXEC = 0, TOKENRUN_SPAWN_STEP_KEYRING = 1, TOKENRUN_SPAWN_STEP_STDIO = 2, TOKENRUN_SPAWN_STEP_FORK = 3 };

/// Starts `file` (searched in PATH unless it holds a slash) with `argv` and `envp`; 0 and the
/// pid in `pid`, or the errno of the step (`failed_step`) that failed. With `set_core` 0 the
/// core limit is left as it is.
int tokenrun_spawn_user(int *pid, const char *file, char *const argv[], char *const envp[], const int stdio[3],
                        const int *default_signals, int default_count, unsigned int umask_value, int set_core,
                        unsigned long long core_current, unsigned long long core_maximum, int *failed_step);

/// Becomes `file` in place (execve, searched in PATH as `tokenrun_spawn_user` does), with the same
/// set-up that function gives its child (default handlers, empty mask, a new session keyring, the
/// caller's umask and core limit, standard descriptors inherited). Returns only when that failed:
/// the errno, with the step in `failed_step`; the signal mask is as it was.
int tokenrun_exec_user(const char *file, char *const argv[], char *const envp[], const int *default_signals,
                       int default_count, unsigned int umask_value, int set_core, unsigned long long core_current,
                       unsigned long long core_maximum, int *failed_step);

// The passphrase prompt: a handler for SIGINT, SIGTERM, SIGHUP and SIGQUIT that puts
// the terminal's saved settings back and then dies of the same signal, so that a
// Ctrl-C at the prompt never leaves echo off.

/// Saves `fd`'s terminal settings, installs the handler and unblocks those signals in this thread; -1 if `fd` is no terminal.
int tokenrun_prompt_guard_begin(int fd);

/// Restores the signal mask and handlers `tokenrun_prompt_guard_begin` replaced.
void tokenrun_prompt_guard_end(void);

#endif
