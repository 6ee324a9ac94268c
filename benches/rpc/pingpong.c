/* The floor for benches/rpc.sh: raw TCP ping-pong with the byte counts of an
 * RPC ADD call (52-byte request, 32-byte reply, record marks included).
 * usage: pingpong server                  (prints "tcp PORT udp 0"; a thread
 *                                          per connection)
 *        pingpong loop                    (the same with one thread and one
 *                                          epoll set, every ready connection
 *                                          served in turn, up to 64 a wait)
 *        pingpong batch                   (a thread per connection that
 *                                          answers every whole request one
 *                                          read brings with one write)
 *        pingpong client PORT N [THREADS] (THREADS connections, one thread
 *                                          each, N round trips per thread;
 *                                          prints round trips per second)
 *        pingpong shared PORT N THREADS   (THREADS threads on one connection,
 *                                          their requests pipelined, N round
 *                                          trips each; prints the same)
 * A reply is the first 32 bytes of its request, so a shared connection's
 * reader can tell whose reply it is from the caller's number the request
 * starts with. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "loopback.h"

#define REQ 52
#define REP 32

static int full(int fd, char *buf, size_t n, int writing) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = writing ? write(fd, buf + done, n - done) : read(fd, buf + done, n - done);
        if (r <= 0) return -1;
        done += (size_t)r;
    }
    return 0;
}

static void *serve(void *arg) {
    int c = (int)(long)arg, one = 1;
    char buf[REQ];
    memset(buf, 7, sizeof buf);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    while (full(c, buf, REQ, 0) == 0 && full(c, buf, REP, 1) == 0) {}
    close(c);
    return NULL;
}

/* The batch server's connection thread: reads what has come, answers
 * every whole request in it with one write. */
static void *serve_batch(void *arg) {
    enum { IN = 65536 };
    int c = (int)(long)arg, one = 1;
    char *in = malloc(IN), *out = malloc(IN / REQ * REP);
    size_t have = 0;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    while (in && out) {
        ssize_t r = read(c, in + have, IN - have);
        if (r <= 0) break;
        have += (size_t)r;
        size_t whole = have / REQ;
        for (size_t i = 0; i < whole; i++) memcpy(out + i * REP, in + i * REQ, REP);
        have -= whole * REQ;
        memmove(in, in + whole * REQ, have);
        if (whole && full(c, out, whole * REP, 1)) break;
    }
    free(in);
    free(out);
    close(c);
    return NULL;
}

static int port;
static long rounds;


static void *ping(void *arg) {
    (void)arg;
    char buf[REQ];
    int s = loopback_dial(port);
    memset(buf, 7, sizeof buf);
    for (long i = 0; i < rounds; i++)
        if (full(s, buf, REQ, 1) || full(s, buf, REP, 0)) exit(1);
    close(s);
    return NULL;
}

/* The shared connection: callers write their requests under a lock and
 * sleep on their word of `state` until the reader thread, which reads the
 * replies in bulk, hands them theirs: as little as a client shared by
 * threads that each wait for their own reply can do per call. */
enum { NO_REPLY, WAITING, REPLIED };
static int shared_fd, callers;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int state[64];

static void *call_shared(void *arg) {
    int me = (int)(long)arg;
    char buf[REQ];
    memset(buf, 7, sizeof buf);
    memcpy(buf, &me, sizeof me);
    for (long i = 0; i < rounds; i++) {
        atomic_store(&state[me], NO_REPLY);
        pthread_mutex_lock(&write_lock);
        int failed = full(shared_fd, buf, REQ, 1);
        pthread_mutex_unlock(&write_lock);
        if (failed) exit(1);
        int expected = NO_REPLY;
        if (atomic_compare_exchange_strong(&state[me], &expected, WAITING))
            while (atomic_load(&state[me]) == WAITING)
                syscall(SYS_futex, &state[me], FUTEX_WAIT_PRIVATE, WAITING, NULL, NULL, 0);
    }
    return NULL;
}

static void *read_shared(void *arg) {
    (void)arg;
    static char in[65536];
    size_t have = 0;
    for (long left = rounds * callers; left > 0;) {
        ssize_t r = read(shared_fd, in + have, sizeof in - have);
        if (r <= 0) exit(1);
        have += (size_t)r;
        size_t whole = have / REP;
        for (size_t i = 0; i < whole; i++) {
            int who;
            memcpy(&who, in + i * REP, sizeof who);
            if (who < 0 || who >= callers) exit(1);
            if (atomic_exchange(&state[who], REPLIED) == WAITING)
                syscall(SYS_futex, &state[who], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        }
        have -= whole * REP;
        memmove(in, in + whole * REP, have);
        left -= (long)whole;
    }
    return NULL;
}

/* The loop server: bytes of the current request each connection has sent,
 * by descriptor. */
#define MAX_FD 1024
static int got[MAX_FD];

static int loop(int l) {
    int ep = epoll_create1(0), one = 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = l}, ready[64];
    char buf[REQ];
    memset(buf, 7, sizeof buf);
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev)) return 1;
    for (;;) {
        int n = epoll_wait(ep, ready, 64, -1);
        if (n < 0) return 1;
        for (int i = 0; i < n; i++) {
            int fd = ready[i].data.fd;
            if (fd == l) {
                int c = accept(l, NULL, NULL);
                if (c < 0 || c >= MAX_FD) return 1;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                got[c] = 0;
                ev.data.fd = c;
                if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev)) return 1;
                continue;
            }
            ssize_t r = read(fd, buf + got[fd], REQ - got[fd]);
            if (r <= 0) {
                close(fd);
                continue;
            }
            got[fd] += (int)r;
            if (got[fd] == REQ) {
                got[fd] = 0;
                if (full(fd, buf, REP, 1)) close(fd);
            }
        }
    }
}

int main(int argc, char **argv) {
    if (argc == 2 && (strcmp(argv[1], "server") == 0 || strcmp(argv[1], "loop") == 0 ||
                      strcmp(argv[1], "batch") == 0)) {
        int l = loopback_listen();
        if (strcmp(argv[1], "loop") == 0) return loop(l);
        return loopback_serve_threads(l, argv[1][0] == 'b' ? serve_batch : serve);
    }
    int shared = argc > 1 && strcmp(argv[1], "shared") == 0;
    if ((argc != 4 && argc != 5) || (shared && argc != 5)) {
        fprintf(stderr, "usage: pingpong server | loop | batch | client PORT N [THREADS] | shared PORT N THREADS\n");
        return 2;
    }
    port = atoi(argv[2]);
    rounds = atol(argv[3]);
    int threads = argc == 5 ? atoi(argv[4]) : 1;
    if (threads < 1 || threads > 64) return 2;
    pthread_t t[64], r;
    struct timespec a, b;
    if (shared) {
        shared_fd = loopback_dial(port);
        callers = threads;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (shared) pthread_create(&r, NULL, read_shared, NULL);
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, shared ? call_shared : ping, (void *)(long)i);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    if (shared) pthread_join(r, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.0f\n", rounds * threads / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9));
    return 0;
}
