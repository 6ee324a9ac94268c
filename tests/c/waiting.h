/* Shared by the C tests: waiting for a condition, never a sleep and a hope,
 * among them a thread asleep in a given system call. */
#ifndef XIPC_TEST_WAITING_H
#define XIPC_TEST_WAITING_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>

static inline double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static inline void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Waits up to 10 s from `start_ms` until `cond`, looking every millisecond;
 * exits naming `what` if it does not come. */
#define UNTIL(what, start_ms, cond)                                                    \
    do {                                                                               \
        while (!(cond)) {                                                              \
            if (now_ms() - (start_ms) > 10000) {                                       \
                fprintf(stderr, "%s:%d: timed out waiting for %s\n", __FILE__,         \
                        __LINE__, what);                                               \
                exit(1);                                                               \
            }                                                                          \
            sleep_ms(1);                                                               \
        }                                                                              \
    } while (0)

/* Reads /proc/self/task/`tid`/`file` into `text` (NUL-terminated). */
static inline void read_task_file(pid_t tid, const char *file, char *text, size_t size) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", (int)tid, file);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    size_t n = fread(text, 1, size - 1, f);
    fclose(f);
    text[n] = '\0';
}

/* Whether thread `tid` of this process sleeps in the kernel and, when
 * `syscalls` (a list ending with -1) is not NULL, in one of those system
 * calls; when `fd` is not -1, with `fd` as its first argument (the call
 * under test's descriptor, not some other read or write). */
static inline bool blocked_in(pid_t tid, const long *syscalls, int fd) {
    char text[512];
    read_task_file(tid, "stat", text, sizeof text);
    /* The state follows the command name, which is in parentheses. */
    const char *end = strrchr(text, ')');
    if (end == NULL || end[1] != ' ' || end[2] != 'S') return false;
    if (syscalls == NULL) return true;
    /* "NUMBER ARG1 ..." while in a system call, else "running" or "-1 ...". */
    read_task_file(tid, "syscall", text, sizeof text);
    long nr = -1;
    unsigned long arg1 = 0;
    if (sscanf(text, "%ld %lx", &nr, &arg1) != 2) return false;
    if (fd != -1 && arg1 != (unsigned long)fd) return false;
    for (const long *s = syscalls; *s != -1; s++)
        if (*s == nr) return true;
    return false;
}

#endif
