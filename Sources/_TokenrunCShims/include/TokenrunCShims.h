// C calls that Swift cannot make directly (variadic prctl and syscall). Prefixed
// symbols; only Sources/TokenrunKit/Support/ProcessHardening.swift (prctl) and
// Sources/TokenrunKit/Vault/KeyringCache.swift (the kernel keyring) use them.
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

#endif
