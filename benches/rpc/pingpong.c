/* The floor for benches/rpc.sh: raw TCP ping-pong with the byte counts of an
 * RPC ADD call (52-byte request, 32-byte reply, record marks included).
 * usage: pingpong server          (prints "tcp PORT udp 0", serves one client)
 *        pingpong client PORT N   (prints round trips per second) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

int main(int argc, char **argv) {
    char buf[REQ];
    int one = 1;
    memset(buf, 7, sizeof buf);
    if (argc == 2 && strcmp(argv[1], "server") == 0) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sin;
        if (bind(l, (struct sockaddr *)&sin, sizeof sin) || listen(l, 1)) return 1;
        getsockname(l, (struct sockaddr *)&sin, &len);
        printf("tcp %u udp 0\n", ntohs(sin.sin_port));
        fflush(stdout);
        for (;;) {
            int c = accept(l, NULL, NULL);
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            while (full(c, buf, REQ, 0) == 0 && full(c, buf, REP, 1) == 0) {}
            close(c);
        }
    }
    if (argc != 4) { fprintf(stderr, "usage: pingpong server | client PORT N\n"); return 2; }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2])),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(s, (struct sockaddr *)&sin, sizeof sin)) return 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    long n = atol(argv[3]);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        if (full(s, buf, REQ, 1) || full(s, buf, REP, 0)) return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.0f\n", n / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9));
    return 0;
}
