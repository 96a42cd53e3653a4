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

#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#if defined(__linux__) && defined(SYS_keyctl)
static int tokenrun_join_new_session_keyring(void) { return (int)syscall(SYS_keyctl, 1L /* KEYCTL_JOIN_SESSION_KEYRING */, (char *)0); }
#else
static int tokenrun_join_new_session_keyring(void) {
    errno = ENOSYS;
    return -1;
}
#endif

// execve on each PATH entry in turn, as glibc's posix_spawnp does: a permission error is
// remembered and reported if nothing else is found; "not there" errors go on to the next.
static void tokenrun_exec_searching(const char *file, const char *path, char *const argv[], char *const envp[]) {
    if (strchr(file, '/') != NULL) {
        execve(file, argv, envp);
        return;
    }
    size_t length = strlen(file);
    char candidate[4096];
    int denied = 0;
    const char *entry = path;
    for (;;) {
        const char *end = entry;
        while (*end != '\0' && *end != ':') end++;
        size_t directory = (size_t)(end - entry);
        if (directory + 1 + length < sizeof candidate) {
            size_t at = 0;
            if (directory > 0) {
                memcpy(candidate, entry, directory);
                candidate[directory] = '/';
                at = directory + 1;
            }
            memcpy(candidate + at, file, length + 1);
            execve(candidate, argv, envp);
            switch (errno) {
            case EACCES: denied = 1; break;
            case ENOENT: case ENOTDIR: case ENODEV: case ESTALE: case ETIMEDOUT: break;
            default: return;
            }
        }
        if (*end == '\0') break;
        entry = end + 1;
    }
    errno = denied ? EACCES : ENOENT;
}

// What a program started for the user gets, set in the process that will exec it: every
// handler back to default (`default_signals` also from "ignored"), a new session keyring,
// the caller's umask and core limit, the standard descriptors `stdio` names. 0, or the errno
// with the step that failed in `step`. Only async-signal-safe calls (it runs in a vfork child).
static int tokenrun_prepare_for_user(const int stdio[3], const int *default_signals, int default_count,
                                     unsigned int umask_value, int set_core, const struct rlimit *core, int *step) {
    for (int number = 1; number < NSIG; number++) {
        if (number == SIGKILL || number == SIGSTOP) continue;
        struct sigaction current;
        if (sigaction(number, NULL, &current) != 0) continue;  // glibc's own signals
        int reset = current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN;
        for (int i = 0; i < default_count && !reset; i++) {
            if (default_signals[i] == number && current.sa_handler == SIG_IGN) reset = 1;
        }
        if (reset) {
            struct sigaction fallback;
            memset(&fallback, 0, sizeof fallback);
            fallback.sa_handler = SIG_DFL;
            sigemptyset(&fallback.sa_mask);
            sigaction(number, &fallback, NULL);
        }
    }
    // Not within reach of the program: any key `tokenrun vault unlock` cached in this
    // session. Where the kernel has no keyrings (or a seccomp filter denies them) there
    // is no cached key to hide; any other failure stops the launch.
    if (tokenrun_join_new_session_keyring() < 0 && errno != ENOSYS && errno != EPERM && errno != EACCES) {
        *step = TOKENRUN_SPAWN_STEP_KEYRING;
        return errno;
    }
    umask((mode_t)umask_value);
    if (set_core) setrlimit(RLIMIT_CORE, core);
    for (int fd = 0; fd < 3; fd++) {
        int source = stdio[fd];
        if (source == TOKENRUN_STDIO_INHERIT) continue;
        int ok;
        if (source == TOKENRUN_STDIO_NULL) {
            int opened = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            ok = opened >= 0;
            if (ok && opened != fd) {
                ok = dup2(opened, fd) >= 0;
                close(opened);
            }
        } else {
            ok = dup2(source, fd) >= 0;
        }
        if (!ok) {
            *step = TOKENRUN_SPAWN_STEP_STDIO;
            return errno;
        }
    }
    return 0;
}

int tokenrun_spawn_user(int *pid, const char *file, char *const argv[], char *const envp[], const int stdio[3],
                        const int *default_signals, int default_count, unsigned int umask_value, int set_core,
                        unsigned long long core_current, unsigned long long core_maximum, int *failed_step) {
    const char *path = getenv("PATH");
    if (path == NULL) path = "/bin:/usr/bin";
    struct rlimit core = {(rlim_t)core_current, (rlim_t)core_maximum};
    // vfork: the child borrows this thread's memory until it execs or exits, so it writes its
    // failure here for the parent to read (volatile: the compiler must not cache it).
    volatile int error = 0;
    volatile int step = TOKENRUN_SPAWN_STEP_EXEC;
    // Every signal blocked across vfork, so no handler of tokenrun's runs in the child before
    // the child has put every handler back to default.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t child = vfork();
    if (child == 0) {
        int prepareStep = TOKENRUN_SPAWN_STEP_EXEC;
        int prepared = tokenrun_prepare_for_user(stdio, default_signals, default_count, umask_value, set_core, &core, &prepareStep);
        if (prepared != 0) {
            error = prepared;
            step = prepareStep;
            _exit(127);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        tokenrun_exec_searching(file, path, argv, envp);
        error = errno;
        step = TOKENRUN_SPAWN_STEP_EXEC;
        _exit(127);
    }
    int forkError = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (child < 0) {
        *failed_step = TOKENRUN_SPAWN_STEP_FORK;
        return forkError;
    }
    if (error != 0) {
        // The child has exited already (vfork returned); reap it so no zombie is left.
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        *failed_step = step;
        return error;
    }
    *pid = child;
    return 0;
}

int tokenrun_exec_user(const char *file, char *const argv[], char *const envp[], const int *default_signals,
                       int default_count, unsigned int umask_value, int set_core, unsigned long long core_current,
                       unsigned long long core_maximum, int *failed_step) {
    const char *path = getenv("PATH");
    if (path == NULL) path = "/bin:/usr/bin";
    struct rlimit core = {(rlim_t)core_current, (rlim_t)core_maximum};
    static const int inherit[3] = {TOKENRUN_STDIO_INHERIT, TOKENRUN_STDIO_INHERIT, TOKENRUN_STDIO_INHERIT};
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    *failed_step = TOKENRUN_SPAWN_STEP_EXEC;
    int error = tokenrun_prepare_for_user(inherit, default_signals, default_count, umask_value, set_core, &core, failed_step);
    if (error == 0) {
        fflush(NULL);
        // A signal that arrived since tokenrun last looked is delivered here, with its default
        // action: the caller sees the process die of it, as it would have seen the child.
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL);
        tokenrun_exec_searching(file, path, argv, envp);
        error = errno;
        *failed_step = TOKENRUN_SPAWN_STEP_EXEC;
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return error;
}

// The passphrase prompt's guard. One prompt at a time (the prompt is on one thread).
static volatile sig_atomic_t tokenrun_prompt_fd = -1;
static struct termios tokenrun_prompt_saved;
static const int tokenrun_prompt_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static struct sigaction tokenrun_prompt_previous[4];
static sigset_t tokenrun_prompt_previous_mask;

static void tokenrun_prompt_handler(int number) {
    int fd = tokenrun_prompt_fd;
    if (fd >= 0) {
        tcsetattr(fd, TCSANOW, &tokenrun_prompt_saved);
        (void)!write(fd, "\n", 1);
    }
    // SA_RESETHAND made the handler default again; raised now, the signal is pending
    // while this handler runs and kills the process once it is unblocked.
    raise(number);
    sigset_t just;
    sigemptyset(&just);
    sigaddset(&just, number);
    pthread_sigmask(SIG_UNBLOCK, &just, NULL);
}

int tokenrun_prompt_guard_begin(int fd) {
    if (tcgetattr(fd, &tokenrun_prompt_saved) != 0) return -1;
    tokenrun_prompt_fd = fd;
    struct sigaction guard;
    memset(&guard, 0, sizeof guard);
    guard.sa_handler = tokenrun_prompt_handler;
    guard.sa_flags = SA_RESETHAND;
    sigfillset(&guard.sa_mask);
    sigset_t these;
    sigemptyset(&these);
    for (int i = 0; i < 4; i++) {
        sigaction(tokenrun_prompt_signals[i], &guard, &tokenrun_prompt_previous[i]);
        sigaddset(&these, tokenrun_prompt_signals[i]);
    }
    // A command that blocks these signals (a launch collects them with sigwait) still wants
    // a Ctrl-C to end the prompt: this thread takes them while the prompt is up.
    pthread_sigmask(SIG_UNBLOCK, &these, &tokenrun_prompt_previous_mask);
    return 0;
}

void tokenrun_prompt_guard_end(void) {
    pthread_sigmask(SIG_SETMASK, &tokenrun_prompt_previous_mask, NULL);
    for (int i = 0; i < 4; i++) sigaction(tokenrun_prompt_signals[i], &tokenrun_prompt_previous[i], NULL);
    tokenrun_prompt_fd = -1;
}
