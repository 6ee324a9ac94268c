/* The floor for benches/rpc.sh: raw TCP ping-pong with the byte counts of an
 * RPC ADD call (52-byte request, 32-byte reply, record marks included).
 * usage: pingpong server                  (prints "tcp PORT udp 0"; a thread
 *                                          per connection)
 *        pingpong loop                    (the same with one thread and one
 *                                          epoll set, every ready connection
 *                                          served in turn, up to 64 a wait)
 *        pingpong client PORT N [THREADS] (THREADS connections, one thread
 *                                          each, N round trips per thread;
 *                                          prints round trips per second) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

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

static int port;
static long rounds;

static void *ping(void *arg) {
    (void)arg;
    char buf[REQ];
    int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    memset(buf, 7, sizeof buf);
    if (connect(s, (struct sockaddr *)&sin, sizeof sin)) exit(1);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (long i = 0; i < rounds; i++)
        if (full(s, buf, REQ, 1) || full(s, buf, REP, 0)) exit(1);
    close(s);
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
    if (argc == 2 && (strcmp(argv[1], "server") == 0 || strcmp(argv[1], "loop") == 0)) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sin;
        if (bind(l, (struct sockaddr *)&sin, sizeof sin) || listen(l, 64)) return 1;
        getsockname(l, (struct sockaddr *)&sin, &len);
        printf("tcp %u udp 0\n", ntohs(sin.sin_port));
        fflush(stdout);
        if (strcmp(argv[1], "loop") == 0) return loop(l);
        for (;;) {
            pthread_t t;
            int c = accept(l, NULL, NULL);
            if (c < 0 || pthread_create(&t, NULL, serve, (void *)(long)c)) return 1;
            pthread_detach(t);
        }
    }
    if (argc != 4 && argc != 5) { fprintf(stderr, "usage: pingpong server | loop | client PORT N [THREADS]\n"); return 2; }
    port = atoi(argv[2]);
    rounds = atol(argv[3]);
    int threads = argc == 5 ? atoi(argv[4]) : 1;
    if (threads < 1 || threads > 64) return 2;
    pthread_t t[64];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, ping, NULL);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.0f\n", rounds * threads / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9));
    return 0;
}
