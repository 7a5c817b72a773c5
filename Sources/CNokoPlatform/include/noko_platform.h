#ifndef NOKO_PLATFORM_H
#define NOKO_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/// Installs handlers for SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE and SIGABRT that write
/// the signal's name into the already-open file `fd`, rename `pending_path` to
/// `crash_path`, then hand the signal to whatever handler was installed before (Swift's
/// backtracer, or the default action), so the process still dies of it.
///
/// The handler uses only async-signal-safe calls (write, fsync, rename, sigaction, raise).
/// The signals are unblocked in the calling thread (a blocked fault bypasses handlers).
/// Returns 0, or -1 with errno set. Paths are copied; they must be shorter than 4096 bytes.
int noko_install_crash_handler(int fd, const char *pending_path, const char *crash_path);

/// Restores the handlers that were installed before, and forgets the file.
void noko_uninstall_crash_handler(void);

/// Installs handlers for SIGINT and SIGTERM that only write the signal's number (one byte)
/// to `pipe_fd`: a thread reading the other end does the real work (flushing, recording
/// `killed`) outside signal context, then calls noko_raise_default. A second signal while
/// that work is under way ends the process at once, as a second Ctrl-C should.
///
/// Dispatch signal sources would be the natural tool, but on Linux they see a signal only
/// when it is blocked in every thread of the process, which a library cannot arrange.
/// A signal the process started out ignoring stays ignored. SIGINT and SIGTERM are
/// unblocked in the calling thread (a process may inherit them blocked). Returns 0, or -1
/// with errno set.
int noko_install_termination_handler(int pipe_fd);

/// Restores the handlers that were there before noko_install_termination_handler.
void noko_uninstall_termination_handler(void);

/// Restores what handled `sig` before noko (the program's own handler, or the default
/// action) and raises it again: by default the process ends as its sender expects (exit
/// status 128 + sig).
void noko_raise_default(int sig);

/// SHA-256 state (FIPS 180-4): init, update any number of times, final.
typedef struct {
    uint32_t state[8];
    uint64_t length;
    uint8_t buffer[64];
    uint32_t pending;
} noko_sha256_context;

void noko_sha256_init(noko_sha256_context *context);
void noko_sha256_update(noko_sha256_context *context, const void *bytes, size_t count);
void noko_sha256_final(noko_sha256_context *context, uint8_t digest[32]);

#endif
