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

/// The longest line output.log keeps; the rest of a longer line is cut, with a marker.
#define NOKO_CONSOLE_MAX_LINE 65536

/// What the console tee writes to.
///
/// `output.log` gets the program's lines as it wrote them, except that a line redrawn with
/// `\r` (a progress bar) is kept in its last state, a line longer than
/// NOKO_CONSOLE_MAX_LINE bytes is cut (on a UTF-8 character boundary) and ends with
/// ` [noko: line cut, N bytes in all]`, and every line ends with `\n`. The index beside it
/// starts with `noko-output-index 1 base B` (B: the offset of the log's first byte counted
/// over every rotation) and holds one record per write to the log,
/// `<start> <end> <stream> <seconds>.<microseconds>`: the byte range in the log, the
/// stream (`1` stdout, `2` stderr, `0` a line of noko's own) and the Unix time it was read.
typedef struct {
    /// Capture descriptor 1, descriptor 2 (non-zero: yes).
    int capture_stdout, capture_stderr;
    /// output.log and its index, open for appending; the index has its header already.
    int log_fd, index_fd;
    /// The log's size now, and its base offset (see above).
    unsigned long long log_size, base;
    /// Rotate when a write would take the log past this many bytes (0: never): the log and
    /// its index are renamed to the rotated paths (replacing older ones) and started afresh.
    unsigned long long rotate_at;
    const char *log_path, *rotated_log_path, *index_path, *rotated_index_path;
    /// A line written first, as stream 0 (a resumed run's separator), or NULL.
    const char *first_line;
} noko_console_config;

/// A running console capture.
typedef struct {
    /// The tee's process id (0 once it has been reaped).
    int pid;
    /// Copies of the original descriptors 1 and 2 (-1 when not captured).
    int saved_fd[2];
    /// Whether descriptor 1, 2 was given a pseudo-terminal (the original was a terminal).
    int is_terminal[2];
    /// The program's end of the control socket.
    int control_fd;
} noko_console;

/// Starts capturing descriptors 1 and 2: each gets a pseudo-terminal when it is a terminal
/// (same modes and size), otherwise a pipe, whose other end a forked tee process reads; the
/// tee forwards every byte to the original descriptor and writes the lines to the log. The
/// tee lives until every writer has closed its end (the program and the children that
/// inherited the descriptors), so `kill -9` of the program loses nothing it wrote. Buffered
/// stdio output is flushed first. Returns 0, or -1 with errno set (nothing changed then).
int noko_console_start(const noko_console_config *config, noko_console *console);

/// Puts the original descriptors back (flushing stdio first), asks the tee to write out
/// everything written so far and waits at most `timeout_ms` for it, then reaps the tee if
/// it has ended. Returns 0 when the log is complete, 1 when the tee did not answer in time.
/// `saved_fd[1]` (the original standard error) is left open for the caller.
int noko_console_stop(noko_console *console, int timeout_ms);

#endif
