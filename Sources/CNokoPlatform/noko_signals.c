// Signal handlers that are safe to run in signal context: the crash marker and the
// SIGINT/SIGTERM relay. Swift code cannot promise to run without allocating or taking
// locks, so this one piece is C.
#include "noko_platform.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

static const int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT};
#define SIGNAL_COUNT (sizeof(signals) / sizeof(signals[0]))

static struct sigaction previous[SIGNAL_COUNT];
static volatile sig_atomic_t installed = 0;
static volatile sig_atomic_t crash_fd = -1;
static char pending[4096];
static char crash[4096];

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
    }
}

static void write_all(int fd, const char *text) {
    size_t length = strlen(text);
    while (length > 0) {
        ssize_t n = write(fd, text, length);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        text += n;
        length -= (size_t)n;
    }
}

static void on_crash(int sig, siginfo_t *info, void *context) {
    int saved_errno = errno;
    int fd = crash_fd;
    // Only the first crashing thread writes the marker.
    crash_fd = -1;
    if (fd >= 0) {
        write_all(fd, signal_name(sig));
        write_all(fd, "\n");
        fsync(fd);
        rename(pending, crash);
    }
    // Hand the signal on: restore what was there before and deliver it again.
    for (size_t i = 0; i < SIGNAL_COUNT; i++) {
        if (signals[i] == sig) {
            if (previous[i].sa_flags & SA_SIGINFO) {
                if (previous[i].sa_sigaction != NULL) {
                    errno = saved_errno;
                    previous[i].sa_sigaction(sig, info, context);
                    return;
                }
            } else if (previous[i].sa_handler != SIG_DFL && previous[i].sa_handler != SIG_IGN &&
                       previous[i].sa_handler != NULL) {
                errno = saved_errno;
                previous[i].sa_handler(sig);
                return;
            }
            sigaction(sig, &previous[i], NULL);
        }
    }
    errno = saved_errno;
    raise(sig);
}

int noko_install_crash_handler(int fd, const char *pending_path, const char *crash_path) {
    if (strlen(pending_path) >= sizeof(pending) || strlen(crash_path) >= sizeof(crash)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    noko_uninstall_crash_handler();
    strcpy(pending, pending_path);
    strcpy(crash, crash_path);
    crash_fd = fd;
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = on_crash;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < SIGNAL_COUNT; i++) {
        if (sigaction(signals[i], &action, &previous[i]) != 0) return -1;
    }
    installed = 1;
    // A process may start with signals blocked (inherited from its parent's thread); a
    // blocked synchronous fault bypasses every handler, so unblock them in this thread (and
    // the threads it creates from now on).
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < SIGNAL_COUNT; i++) sigaddset(&set, signals[i]);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return 0;
}

void noko_uninstall_crash_handler(void) {
    if (!installed) return;
    crash_fd = -1;
    for (size_t i = 0; i < SIGNAL_COUNT; i++) sigaction(signals[i], &previous[i], NULL);
    installed = 0;
}

static const int termination_signals[] = {SIGINT, SIGTERM};
static struct sigaction previous_termination[2];
static volatile sig_atomic_t termination_fd = -1;
static volatile sig_atomic_t termination_pending = 0;
static volatile sig_atomic_t termination_installed = 0;

void noko_raise_default(int sig) {
    // Hand the signal to whatever was there before noko (the program's own handler, or the
    // default action), and deliver it again.
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < 2; i++) {
        if (termination_signals[i] == sig && termination_installed) action = previous_termination[i];
    }
    sigaction(sig, &action, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

static void on_termination(int sig) {
    int saved_errno = errno;
    if (termination_pending || termination_fd < 0) {
        noko_raise_default(sig);
        errno = saved_errno;
        return;
    }
    termination_pending = 1;
    unsigned char byte = (unsigned char)sig;
    while (write(termination_fd, &byte, 1) < 0 && errno == EINTR) {
    }
    errno = saved_errno;
}

int noko_install_termination_handler(int pipe_fd) {
    noko_uninstall_termination_handler();
    termination_fd = pipe_fd;
    termination_pending = 0;
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_termination;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < 2; i++) {
        if (sigaction(termination_signals[i], NULL, &previous_termination[i]) != 0) return -1;
        // A signal the process was started ignoring (a background job's SIGINT) stays
        // ignored, as Python does: Ctrl-C meant for the shell must not end the job.
        if (!(previous_termination[i].sa_flags & SA_SIGINFO) && previous_termination[i].sa_handler == SIG_IGN) continue;
        if (sigaction(termination_signals[i], &action, NULL) != 0) return -1;
        sigaddset(&set, termination_signals[i]);
    }
    termination_installed = 1;
    // Signals blocked since the process started (inherited from its parent) would never
    // reach the handler: unblock them in this thread and the threads it creates from now on.
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return 0;
}

void noko_uninstall_termination_handler(void) {
    if (!termination_installed) return;
    for (size_t i = 0; i < 2; i++) sigaction(termination_signals[i], &previous_termination[i], NULL);
    termination_fd = -1;
    termination_installed = 0;
}
