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

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <errno.h>

#if defined(__linux__) && defined(SYS_add_key) && defined(SYS_keyctl)
// From <linux/keyctl.h>, spelled out so no kernel headers are needed to build. Integer
// arguments are widened to long: syscall(2) reads each one as a long.
enum {
    TOKENRUN_KEYCTL_GET_KEYRING_ID = 0,
    TOKENRUN_KEYCTL_REVOKE = 3,
    TOKENRUN_KEYCTL_SETPERM = 5,
    TOKENRUN_KEYCTL_LINK = 8,
    TOKENRUN_KEYCTL_UNLINK = 9,
    TOKENRUN_KEYCTL_SEARCH = 10,
    TOKENRUN_KEYCTL_READ = 11,
    TOKENRUN_KEYCTL_SET_TIMEOUT = 15,
    TOKENRUN_KEYCTL_INVALIDATE = 21,
};

int32_t tokenrun_key_add(const char *type, const char *description, const void *payload, size_t length, int32_t keyring) {
    return (int32_t)syscall(SYS_add_key, type, description, payload, length, (long)keyring);
}

int32_t tokenrun_key_keyring_id(int32_t keyring, int create) {
    return (int32_t)syscall(SYS_keyctl, TOKENRUN_KEYCTL_GET_KEYRING_ID, (long)keyring, create ? 1L : 0L);
}

int32_t tokenrun_key_search(int32_t keyring, const char *type, const char *description) {
    return (int32_t)syscall(SYS_keyctl, TOKENRUN_KEYCTL_SEARCH, (long)keyring, type, description, 0L);
}

long tokenrun_key_read(int32_t key, void *buffer, size_t length) {
    return syscall(SYS_keyctl, TOKENRUN_KEYCTL_READ, (long)key, buffer, length);
}

int tokenrun_key_set_timeout(int32_t key, unsigned int seconds) {
    return (int)syscall(SYS_keyctl, TOKENRUN_KEYCTL_SET_TIMEOUT, (long)key, (unsigned long)seconds);
}

int tokenrun_key_set_perm(int32_t key, uint32_t permissions) {
    return (int)syscall(SYS_keyctl, TOKENRUN_KEYCTL_SETPERM, (long)key, (unsigned long)permissions);
}

int tokenrun_key_link(int32_t key, int32_t keyring) { return (int)syscall(SYS_keyctl, TOKENRUN_KEYCTL_LINK, (long)key, (long)keyring); }

int tokenrun_key_unlink(int32_t key, int32_t keyring) { return (int)syscall(SYS_keyctl, TOKENRUN_KEYCTL_UNLINK, (long)key, (long)keyring); }

int tokenrun_key_invalidate(int32_t key) { return (int)syscall(SYS_keyctl, TOKENRUN_KEYCTL_INVALIDATE, (long)key); }

int tokenrun_key_revoke(int32_t key) { return (int)syscall(SYS_keyctl, TOKENRUN_KEYCTL_REVOKE, (long)key); }
#else
static int32_t tokenrun_no_keyrings(void) {
    errno = ENOSYS;
    return -1;
}

int32_t tokenrun_key_add(const char *type, const char *description, const void *payload, size_t length, int32_t keyring) {
    (void)type; (void)description; (void)payload; (void)length; (void)keyring;
    return tokenrun_no_keyrings();
}

int32_t tokenrun_key_keyring_id(int32_t keyring, int create) { (void)keyring; (void)create; return tokenrun_no_keyrings(); }

int32_t tokenrun_key_search(int32_t keyring, const char *type, const char *description) {
    (void)keyring; (void)type; (void)description;
    return tokenrun_no_keyrings();
}

long tokenrun_key_read(int32_t key, void *buffer, size_t length) { (void)key; (void)buffer; (void)length; return tokenrun_no_keyrings(); }

int tokenrun_key_set_timeout(int32_t key, unsigned int seconds) { (void)key; (void)seconds; return tokenrun_no_keyrings(); }

int tokenrun_key_set_perm(int32_t key, uint32_t permissions) { (void)key; (void)permissions; return tokenrun_no_keyrings(); }

int tokenrun_key_link(int32_t key, int32_t keyring) { (void)key; (void)keyring; return tokenrun_no_keyrings(); }

int tokenrun_key_unlink(int32_t key, int32_t keyring) { (void)key; (void)keyring; return tokenrun_no_keyrings(); }

int tokenrun_key_invalidate(int32_t key) { (void)key; return tokenrun_no_keyrings(); }

int tokenrun_key_revoke(int32_t key) { (void)key; return tokenrun_no_keyrings(); }
#endif
