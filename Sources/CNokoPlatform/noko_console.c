// The console tee: a forked process that reads what the program writes to descriptors 1
// and 2, forwards it to where they pointed before, and keeps it in output.log with a
// sidecar index (see noko_platform.h for the format).
//
// It is a process of its own, not a thread, so that `kill -9` of the program loses nothing:
// what the program wrote is in the pipe (or the pseudo-terminal), which outlives the
// writer; the tee reads it to the end and exits. It is forked without exec from a process
// that has other threads, so after fork it may only make async-signal-safe calls: no
// malloc, no stdio, no locks. Every buffer is static and every number is formatted by hand.
#define _GNU_SOURCE 1
#include "noko_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#define READ_SIZE (256 * 1024)
#define MAX_LINE NOKO_CONSOLE_MAX_LINE
// Lines are gathered here before one write to output.log; flushed when less than a whole
// line (and its marker) would still fit.
#define OUT_SIZE (READ_SIZE + 2 * (MAX_LINE + 128))
#define MARKER_ROOM 128

struct stream {
    int fd;              // what the tee reads (a pipe's read end or a pty master), -1 once closed
    int target;          // where it is forwarded: the original descriptor (1 or 2)
    int forwarding;      // 0 once forwarding failed (a closed pipe, a hung-up terminal)
    int is_pty;
    char code;           // '1' stdout, '2' stderr
    unsigned char line[MAX_LINE + 1];  // the line so far; line[MAX_LINE] is the first byte cut
    unsigned long long total;           // bytes of the current line, cut or not
    int after_cr;        // a carriage return came last: the next byte starts the line afresh
};

static struct stream streams[2];
static unsigned char in_buffer[READ_SIZE];
static unsigned char out_buffer[OUT_SIZE];
static size_t out_length;
static char out_code;
static double out_time;

static int log_fd = -1, index_fd = -1, log_failed;
static unsigned long long log_size, log_base, rotate_at;
static char log_path[4096], rotated_log_path[4096], index_path[4096], rotated_index_path[4096];
static volatile sig_atomic_t window_changed;
static size_t last_read;

// ---- small async-signal-safe helpers ----

static int write_all(int fd, const void *bytes, size_t length) {
    const unsigned char *p = bytes;
    while (length > 0) {
        ssize_t n = write(fd, p, length);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                struct pollfd waiting = {fd, POLLOUT, 0};
                poll(&waiting, 1, 100);
                continue;
            }
            return -1;
        }
        p += n;
        length -= (size_t)n;
    }
    return 0;
}

static size_t format_unsigned(char *out, unsigned long long value) {
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    for (size_t i = 0; i < n; i++) out[i] = digits[n - 1 - i];
    return n;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void say(const char *text) {
    if (write_all(2, "noko: console capture: ", 23) == 0) write_all(2, text, strlen(text));
}

// ---- output.log and its index ----

static void write_index_header(void) {
    char header[96];
    size_t n = 0;
    memcpy(header, "noko-output-index 1 base ", 25);
    n = 25;
    n += format_unsigned(header + n, log_base);
    header[n++] = '\n';
    if (write_all(index_fd, header, n) != 0) log_failed = 1;
}

static void rotate(void) {
    close(log_fd);
    close(index_fd);
    // The live file is renamed, never rewritten: a reader holding it open reads it to its
    // end, and every byte keeps its offset (log_base + offset in the file).
    rename(log_path, rotated_log_path);
    rename(index_path, rotated_index_path);
    log_base += log_size;
    log_size = 0;
    log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    index_fd = open(index_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0 || index_fd < 0) {
        log_failed = 1;
        say("cannot start a new output.log after rotating the old one; output goes on to the terminal only\n");
        return;
    }
    write_index_header();
}

// Appends `length` bytes of whole lines of stream `code`, captured at `when`, and their
// index record: "<start> <end> <stream> <unix seconds>.<microseconds>".
static void append_to_log(char code, const unsigned char *bytes, size_t length, double when) {
    if (length == 0 || log_failed) return;
    if (rotate_at > 0 && log_size > 0 && log_size + length > rotate_at) rotate();
    if (log_failed) return;
    if (write_all(log_fd, bytes, length) != 0) {
        log_failed = 1;
        say(errno == ENOSPC ? "output.log: no space left on the device; output goes on to the terminal only\n"
                            : "cannot write output.log; output goes on to the terminal only\n");
        return;
    }
    char record[128];
    size_t n = format_unsigned(record, log_size);
    record[n++] = ' ';
    n += format_unsigned(record + n, log_size + length);
    record[n++] = ' ';
    record[n++] = code;
    record[n++] = ' ';
    unsigned long long micros = (unsigned long long)(when * 1e6 + 0.5);
    n += format_unsigned(record + n, micros / 1000000);
    record[n++] = '.';
    char fraction[8];
    size_t digits = format_unsigned(fraction, micros % 1000000);
    for (size_t i = digits; i < 6; i++) record[n++] = '0';
    memcpy(record + n, fraction, digits);
    n += digits;
    record[n++] = '\n';
    log_size += length;
    if (write_all(index_fd, record, n) != 0) log_failed = 1;
}

static void flush_out(void) {
    append_to_log(out_code, out_buffer, out_length, out_time);
    out_length = 0;
}

// ---- folding lines ----

static void emit_line(struct stream *s, double when) {
    if (out_length > 0 && (out_code != s->code || OUT_SIZE - out_length < MAX_LINE + MARKER_ROOM)) flush_out();
    out_code = s->code;
    out_time = when;
    size_t keep = s->total < MAX_LINE ? (size_t)s->total : MAX_LINE;
    if (s->total > MAX_LINE) {
        // Cut on a character boundary: line[MAX_LINE] is the first byte left out; while it
        // continues a UTF-8 character, that character is left out whole.
        while (keep > 0 && (s->line[keep] & 0xC0) == 0x80) keep--;
    }
    memcpy(out_buffer + out_length, s->line, keep);
    out_length += keep;
    if (s->total > MAX_LINE) {
        static const char before[] = " [noko: line cut, ";
        static const char after[] = " bytes in all]";
        memcpy(out_buffer + out_length, before, sizeof(before) - 1);
        out_length += sizeof(before) - 1;
        out_length += format_unsigned((char *)out_buffer + out_length, s->total);
        memcpy(out_buffer + out_length, after, sizeof(after) - 1);
        out_length += sizeof(after) - 1;
    }
    out_buffer[out_length++] = '\n';
    s->total = 0;
    s->after_cr = 0;
}

static void append_run(struct stream *s, const unsigned char *bytes, size_t length) {
    if (s->after_cr) {
        // `\r` then more text: the line is being redrawn (a progress bar); keep the new state.
        s->total = 0;
        s->after_cr = 0;
    }
    if (s->total < MAX_LINE) {
        size_t room = MAX_LINE - (size_t)s->total;
        memcpy(s->line + s->total, bytes, length < room ? length : room);
    }
    if (s->total <= MAX_LINE && s->total + length > MAX_LINE) s->line[MAX_LINE] = bytes[MAX_LINE - s->total];
    s->total += length;
}

// A whole plain line (no `\r`, not too long, nothing pending): copied once, straight to
// the output buffer. Most lines are such; the general path copies them twice.
static void emit_plain_line(struct stream *s, const unsigned char *bytes, size_t length, double when) {
    if (out_length > 0 && (out_code != s->code || OUT_SIZE - out_length < MAX_LINE + MARKER_ROOM)) flush_out();
    out_code = s->code;
    out_time = when;
    memcpy(out_buffer + out_length, bytes, length + 1);
    out_length += length + 1;
}

static void fold(struct stream *s, const unsigned char *bytes, size_t length, double when) {
    size_t i = 0;
    while (i < length) {
        // memchr, not a loop over bytes: the tee must keep up with a program writing
        // hundreds of megabytes a second.
        const unsigned char *newline = memchr(bytes + i, '\n', length - i);
        size_t end = newline ? (size_t)(newline - bytes) : length;
        const unsigned char *cr = memchr(bytes + i, '\r', end - i);
        if (newline && !cr && s->total == 0 && !s->after_cr && end - i <= MAX_LINE) {
            emit_plain_line(s, bytes + i, end - i, when);
            i = end + 1;
            continue;
        }
        while (cr) {
            if ((size_t)(cr - bytes) > i) append_run(s, bytes + i, (size_t)(cr - bytes) - i);
            s->after_cr = 1;
            i = (size_t)(cr - bytes) + 1;
            cr = i < end ? memchr(bytes + i, '\r', end - i) : NULL;
        }
        if (end > i) append_run(s, bytes + i, end - i);
        if (!newline) break;
        emit_line(s, when);
        i = end + 1;
    }
}

// The unfinished line of `s`, as a line (the stream ended, or the run finishes).
static void finish_line(struct stream *s, double when) {
    if (s->total > 0) emit_line(s, when);
    s->after_cr = 0;
}

// ---- the loop ----

static void close_stream(struct stream *s) {
    finish_line(s, now_seconds());
    flush_out();
    close(s->fd);
    s->fd = -1;
}

// Reads what is there; returns 1 if something was read, 0 if nothing (would block), -1 when
// the stream ended.
static int read_stream(struct stream *s) {
    ssize_t n = read(s->fd, in_buffer, sizeof(in_buffer));
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return 0;
        // EIO: every writer of a pseudo-terminal is gone (its end of file).
        close_stream(s);
        return -1;
    }
    if (n == 0) {
        close_stream(s);
        return -1;
    }
    last_read = (size_t)n;
    double when = now_seconds();
    if (s->forwarding && write_all(s->target, in_buffer, (size_t)n) != 0) {
        // The reader of the original output went away (`| head`) or the terminal hung up:
        // keep what was written, then close this end so the program's next write fails as
        // it would have without capture.
        s->forwarding = 0;
        fold(s, in_buffer, (size_t)n, when);
        while ((n = read(s->fd, in_buffer, sizeof(in_buffer))) > 0) fold(s, in_buffer, (size_t)n, now_seconds());
        close_stream(s);
        return -1;
    }
    fold(s, in_buffer, (size_t)n, when);
    flush_out();
    return 1;
}

// Everything written before the request is in output.log: read until nothing is left (a
// pseudo-terminal hands data over a moment after the write returns, so wait briefly for
// more), then end the unfinished lines.
static void drain(void) {
    for (int rounds = 0; rounds < 1000; rounds++) {
        int got = 0;
        for (int k = 0; k < 2; k++) {
            while (streams[k].fd >= 0 && read_stream(&streams[k]) > 0) got = 1;
        }
        if (!got) {
            struct pollfd fds[2];
            nfds_t count = 0;
            for (int k = 0; k < 2; k++) {
                if (streams[k].fd >= 0) fds[count++] = (struct pollfd){streams[k].fd, POLLIN, 0};
            }
            if (count == 0 || poll(fds, count, 20) <= 0) break;
        }
    }
    double when = now_seconds();
    for (int k = 0; k < 2; k++) {
        if (streams[k].fd >= 0) finish_line(&streams[k], when);
    }
    flush_out();
}

static void copy_window_sizes(void) {
    for (int k = 0; k < 2; k++) {
        if (streams[k].fd < 0 || !streams[k].is_pty) continue;
        struct winsize size;
        if (ioctl(streams[k].target, TIOCGWINSZ, &size) == 0) ioctl(streams[k].fd, TIOCSWINSZ, &size);
    }
}

static void on_window_change(int sig) {
    (void)sig;
    window_changed = 1;
}

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

// One byte on the control socket; never SIGPIPE (the other side may be gone).
static void send_byte(int fd, unsigned char byte) {
    while (send(fd, &byte, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
}

static void run_tee(int control_fd) {
    for (;;) {
        if (window_changed) {
            window_changed = 0;
            copy_window_sizes();
        }
        struct pollfd fds[3];
        int which[3];
        nfds_t count = 0;
        for (int k = 0; k < 2; k++) {
            if (streams[k].fd >= 0) {
                fds[count] = (struct pollfd){streams[k].fd, POLLIN, 0};
                which[count++] = k;
            }
        }
        if (count == 0) return;
        if (control_fd >= 0) {
            fds[count] = (struct pollfd){control_fd, POLLIN, 0};
            which[count++] = -1;
        }
        if (poll(fds, count, -1) < 0) continue;  // EINTR (a window change)
        int small = 0;
        for (nfds_t i = 0; i < count; i++) {
            if (!fds[i].revents) continue;
            if (which[i] >= 0) {
                struct stream *s = &streams[which[i]];
                if (s->fd >= 0 && read_stream(s) > 0 && last_read < 65536) small = 1;
            } else {
                unsigned char request;
                ssize_t n = read(control_fd, &request, 1);
                if (n == 1) {
                    drain();
                    send_byte(control_fd, 'd');
                } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                    // The program stopped capturing (or died): no more requests.
                    close(control_fd);
                    control_fd = -1;
                }
            }
        }
        if (small) {
            // A program writing fast in small pieces (stdio's 4 KiB) would wake the tee for
            // each: let the pipe gather for a millisecond instead (no one sees that delay on
            // a terminal), so the writes do not each pay for a wake-up.
            struct timespec pause = {0, 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
}

static int compare_ints(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void close_span(int from, int to) {
    if (to < from) return;
#if defined(__linux__) && defined(SYS_close_range)
    if (syscall(SYS_close_range, (unsigned)from, (unsigned)to, 0) == 0) return;
#endif
    for (int fd = from; fd <= to; fd++) close(fd);
}

// Closes every descriptor but 1, 2 and the `count` in `keep` (sorted in place): the tee
// must not hold the program's files, sockets or locks open after the program is gone.
static void close_all_but(int *keep, int count, int limit) {
    qsort(keep, (size_t)count, sizeof(int), compare_ints);
    int from = 3;
    for (int i = 0; i < count; i++) {
        if (keep[i] < from) continue;
        close_span(from, keep[i] - 1);
        from = keep[i] + 1;
    }
#if defined(__linux__) && defined(SYS_close_range)
    if (syscall(SYS_close_range, (unsigned)from, ~0U, 0) == 0) return;
#endif
    close_span(from, limit - 1);
}

// ---- the program's side ----

static int open_pty(int original, int *reader, int *writer) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -1;
    char name[256];
    int slave = -1;
#ifdef __linux__
    if (grantpt(master) == 0 && unlockpt(master) == 0 && ptsname_r(master, name, sizeof(name)) == 0)
#else
    const char *found = NULL;
    if (grantpt(master) == 0 && unlockpt(master) == 0 && (found = ptsname(master)) != NULL &&
        strlen(found) < sizeof(name) && strcpy(name, found) != NULL)
#endif
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        close(master);
        return -1;
    }
    fcntl(master, F_SETFD, FD_CLOEXEC);
    // The program sees the terminal it had: the same modes (colour-aware programs, line
    // discipline) and the same size.
    struct termios modes;
    if (tcgetattr(original, &modes) == 0) tcsetattr(slave, TCSANOW, &modes);
    struct winsize size;
    if (ioctl(original, TIOCGWINSZ, &size) == 0) ioctl(slave, TIOCSWINSZ, &size);
    *reader = master;
    *writer = slave;
    return 0;
}

static int open_pipe(int *reader, int *writer) {
    int ends[2];
    if (pipe(ends) != 0) return -1;
    fcntl(ends[0], F_SETFD, FD_CLOEXEC);
    fcntl(ends[1], F_SETFD, FD_CLOEXEC);
#if defined(__linux__) && defined(F_SETPIPE_SZ)
    // A larger pipe: fewer wake-ups of the tee for a program that writes a lot.
    fcntl(ends[1], F_SETPIPE_SZ, 1 << 20);
#endif
    *reader = ends[0];
    *writer = ends[1];
    return 0;
}

static int copy_path(char *to, const char *from) {
    if (from == NULL || strlen(from) >= 4096) return -1;
    strcpy(to, from);
    return 0;
}

int noko_console_start(const noko_console_config *config, noko_console *console) {
    int readers[2] = {-1, -1}, writers[2] = {-1, -1};
    int control[2] = {-1, -1};
    int captured[2] = {config->capture_stdout, config->capture_stderr};
    memset(console, 0, sizeof(*console));
    console->pid = -1;
    console->saved_fd[0] = console->saved_fd[1] = -1;
    console->control_fd = -1;
    if (copy_path(log_path, config->log_path) || copy_path(rotated_log_path, config->rotated_log_path) ||
        copy_path(index_path, config->index_path) || copy_path(rotated_index_path, config->rotated_index_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    struct rlimit limit;
    int descriptor_limit = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < (1 << 20)
                               ? (int)limit.rlim_cur
                               : (1 << 20);
    int saved_errno = 0;
    for (int k = 0; k < 2; k++) {
        int fd = k + 1;
        // A descriptor that is not open stays as it is.
        if (!captured[k] || fcntl(fd, F_GETFD) < 0) {
            captured[k] = 0;
            continue;
        }
        console->is_terminal[k] = isatty(fd) && open_pty(fd, &readers[k], &writers[k]) == 0;
        if (!console->is_terminal[k] && open_pipe(&readers[k], &writers[k]) != 0) goto fail;
        console->saved_fd[k] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (console->saved_fd[k] < 0) goto fail;
    }
    if (!captured[0] && !captured[1]) {
        errno = EBADF;
        return -1;
    }
    // The control socket: the program asks the tee to write out what it has, and the tee
    // answers (or ends, which closes it).
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, control) != 0) goto fail;
    for (int k = 0; k < 2; k++) fcntl(control[k], F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
    int on = 1;
    setsockopt(control[1], SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof(on));
#endif

    // What the program wrote before is not captured: its buffered standard output goes out
    // to where it was going.
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) goto fail;
    if (pid == 0) {
        // The tee. Signals meant for the program (Ctrl-C, a hang-up, SIGTERM to the process
        // group) must not stop it before it has read everything; it ends at end of file.
        struct sigaction ignore, fallback, winch;
        memset(&ignore, 0, sizeof(ignore));
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        fallback = ignore;
        fallback.sa_handler = SIG_DFL;
        winch = ignore;
        winch.sa_handler = on_window_change;
        const int ignored[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2};
        for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) sigaction(ignored[i], &ignore, NULL);
        // The program's crash handlers write its run's crash marker: not for the tee.
        const int defaults[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT, SIGCHLD};
        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) sigaction(defaults[i], &fallback, NULL);
        sigaction(SIGWINCH, &winch, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);

        int keep[8], kept = 0;
        for (int k = 0; k < 2; k++) {
            if (readers[k] >= 0) keep[kept++] = readers[k];
        }
        keep[kept++] = config->log_fd;
        keep[kept++] = config->index_fd;
        keep[kept++] = control[0];
        close(0);
        close_all_but(keep, kept, descriptor_limit);

        log_fd = config->log_fd;
        index_fd = config->index_fd;
        log_size = config->log_size;
        log_base = config->base;
        rotate_at = config->rotate_at;
        for (int k = 0; k < 2; k++) {
            struct stream *s = &streams[k];
            s->fd = readers[k];
            s->target = k + 1;
            s->forwarding = 1;
            s->is_pty = console->is_terminal[k];
            s->code = (char)('1' + k);
            if (s->fd >= 0) fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
        }
        if (config->first_line != NULL && config->first_line[0] != 0) {
            append_to_log('0', (const unsigned char *)config->first_line, strlen(config->first_line), now_seconds());
        }
        close(control[1]);
        run_tee(control[0]);
        _exit(0);
    }
    // The program: descriptors 1 and 2 now lead to the tee (children it starts inherit them).
    for (int k = 0; k < 2; k++) {
        if (!captured[k]) continue;
        close(readers[k]);
        readers[k] = -1;
        while (dup2(writers[k], k + 1) < 0 && errno == EINTR) {
        }
        close(writers[k]);
        writers[k] = -1;
    }
    close(control[0]);
    console->pid = pid;
    console->control_fd = control[1];
    return 0;

fail:
    saved_errno = errno;
    for (int k = 0; k < 2; k++) {
        if (readers[k] >= 0) close(readers[k]);
        if (writers[k] >= 0) close(writers[k]);
        if (console->saved_fd[k] >= 0) close(console->saved_fd[k]);
        console->saved_fd[k] = -1;
    }
    for (int k = 0; k < 2; k++) {
        if (control[k] >= 0) close(control[k]);
    }
    errno = saved_errno;
    return -1;
}

static int wait_readable(int fd, int timeout_ms) {
    struct pollfd waiting = {fd, POLLIN, 0};
    for (;;) {
        int n = poll(&waiting, 1, timeout_ms);
        if (n >= 0 || errno != EINTR) return n;
    }
}

int noko_console_stop(noko_console *console, int timeout_ms) {
    if (console->pid <= 0) return -1;
    fflush(stdout);
    fflush(stderr);
    // The original descriptors back: from here on the program writes where it did before.
    for (int k = 0; k < 2; k++) {
        if (console->saved_fd[k] < 0) continue;
        while (dup2(console->saved_fd[k], k + 1) < 0 && errno == EINTR) {
        }
    }
    // The saved standard output is closed; the saved standard error is left open, because
    // noko's messages may be on their way to it from another thread (see NokoPlatform's
    // ConsoleTee), and a number closed under them could be reused by another file.
    if (console->saved_fd[0] >= 0) close(console->saved_fd[0]);
    console->saved_fd[0] = -1;
    // A child process may still hold the old descriptors, so the tee may not reach end of
    // file: ask it to write out everything written so far, and wait for its answer.
    // The tee answers once it has done so, or closes the socket by exiting, which it
    // does only after writing out everything (every writer closed its end).
    int complete = 0;
    unsigned char reply;
    send_byte(console->control_fd, 'f');
    if (wait_readable(console->control_fd, timeout_ms) > 0) {
        ssize_t n;
        while ((n = recv(console->control_fd, &reply, 1, 0)) < 0 && errno == EINTR) {
        }
        // ECONNRESET: the tee reached end of file and exited before reading the request
        // (closing a socket with unread data resets it), which it does only after writing
        // everything out: as complete as an answer.
        complete = n >= 0 || errno == ECONNRESET;
    }
    close(console->control_fd);
    console->control_fd = -1;
    // Reap it when it has ended (the usual case: nothing else held the descriptors).
    for (int waited = 0; waited < 200; waited += 5) {
        int status;
        pid_t done = waitpid(console->pid, &status, WNOHANG);
        if (done == console->pid || (done < 0 && errno == ECHILD)) {
            console->pid = 0;
            break;
        }
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return complete ? 0 : 1;
}
