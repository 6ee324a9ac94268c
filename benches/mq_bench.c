/* One POSIX message queue benchmark, run by benches/mq.sh:
 *   mq_bench raw|xipc rtt N    ping-pong of 64-byte messages between two
 *                              processes; prints microseconds per round trip
 *   mq_bench raw|xipc tput N   one-way stream of 8192-byte messages; prints
 *                              MB/s (1 MB = 1e6 bytes)
 * "raw" calls mq_send/mq_receive directly; "xipc" calls xipc_mq_*. The
 * second process is a fork, so `taskset -c 0 mq_bench ...` pins both. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xipc.h"

#define SMALL 64
#define BIG 8192

static int use_xipc;

typedef struct {
    mqd_t raw;
    xipc_mq *x;
} queue;

static void die(const char *what) {
    fprintf(stderr, "mq_bench: %s: %s\n", what, use_xipc ? xipc_last_error() : strerror(errno));
    exit(1);
}

static queue open_queue(const char *name, int create) {
    queue q = {(mqd_t)-1, NULL};
    if (use_xipc) {
        xipc_mq_attr attr = {0};
        attr.max_messages = 10;
        attr.max_message_size = BIG;
        if (xipc_mq_open(name, XIPC_MQ_RDWR | (create ? XIPC_MQ_CREATE : 0), 0600, &attr, &q.x)) die("open");
    } else {
        struct mq_attr attr = {0};
        attr.mq_maxmsg = 10;
        attr.mq_msgsize = BIG;
        q.raw = mq_open(name, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600, &attr);
        if (q.raw == (mqd_t)-1) die("open");
    }
    return q;
}

static inline void put(queue q, const char *buf, size_t len) {
    if (use_xipc ? xipc_mq_send(q.x, buf, len, 0) != XIPC_OK : mq_send(q.raw, buf, len, 0) != 0) die("send");
}

static inline size_t get(queue q, char *buf) {
    if (use_xipc) {
        size_t len;
        unsigned prio;
        if (xipc_mq_receive(q.x, buf, BIG, &len, &prio)) die("receive");
        return len;
    }
    ssize_t n = mq_receive(q.raw, buf, BIG, NULL);
    if (n < 0) die("receive");
    return (size_t)n;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: mq_bench raw|xipc rtt|tput N\n");
        return 2;
    }
    use_xipc = strcmp(argv[1], "xipc") == 0;
    int rtt = strcmp(argv[2], "rtt") == 0;
    long n = atol(argv[3]);
    char ping[64], pong[64];
    snprintf(ping, sizeof ping, "/xipc-mq-bench-%d-a", (int)getpid());
    snprintf(pong, sizeof pong, "/xipc-mq-bench-%d-b", (int)getpid());
    queue a = open_queue(ping, 1), b = open_queue(pong, 1);
    static char buf[BIG];
    memset(buf, 'x', sizeof buf);

    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        if (rtt) {
            for (long i = 0; i < n; i++) {
                size_t len = get(a, buf);
                put(b, buf, len);
            }
        } else {
            for (long i = 0; i < n; i++) get(a, buf);
            put(b, buf, 1); /* done */
        }
        _exit(0);
    }
    /* One warm-up exchange, untimed. */
    double start = 0;
    if (rtt) {
        put(a, buf, SMALL);
        get(b, buf);
        start = now();
        for (long i = 1; i < n; i++) {
            put(a, buf, SMALL);
            get(b, buf);
        }
        printf("%.3f\n", (now() - start) / (double)(n - 1) * 1e6);
    } else {
        start = now();
        for (long i = 0; i < n; i++) put(a, buf, BIG);
        get(b, buf);
        printf("%.1f\n", (double)n * BIG / (now() - start) / 1e6);
    }
    int status;
    waitpid(child, &status, 0);
    if (use_xipc) {
        xipc_mq_unlink(ping);
        xipc_mq_unlink(pong);
    } else {
        mq_unlink(ping);
        mq_unlink(pong);
    }
    return 0;
}
