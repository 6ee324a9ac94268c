/* Stream benchmark: xipc from C against plain read/write with the same
 * record-marked framing, over a pipe, a Unix socket and TCP loopback.
 *
 *   stream_bench <pipe|unix|tcp> <rtt|tput> <xipc|raw> <count> <size>
 *
 * Prints one line: "<transport> <mode> <impl> <value> <unit>". Both
 * implementations use the same descriptors (made with plain calls; xipc
 * adopts them with xipc_stream_from_fd), so only the I/O path differs. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xipc.h"

static void die(const char *what) {
    fprintf(stderr, "stream_bench: %s: %s / %s\n", what, strerror(errno), xipc_last_error());
    exit(1);
}

/* ---- the two implementations of one framed message channel ---- */

typedef struct {
    int rfd, wfd;
    xipc_stream *r, *w; /* xipc only */
    uint8_t *buf;
    size_t cap;
} chan;

static int use_xipc;

static void raw_full_read(int fd, uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t got = read(fd, p, n);
        if (got <= 0) {
            if (got < 0 && errno == EINTR) continue;
            die("read");
        }
        p += got;
        n -= (size_t)got;
    }
}

static void chan_send(chan *c, const uint8_t *msg, size_t len) {
    if (use_xipc) {
        if (xipc_stream_send(c->w, msg, len) != XIPC_OK) die("xipc_stream_send");
        return;
    }
    uint32_t header = htonl((uint32_t)len | 0x80000000u);
    struct iovec iov[2] = {{&header, 4}, {(void *)msg, len}};
    size_t left = 4 + len;
    while (left > 0) {
        ssize_t n = writev(c->wfd, iov, 2);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("writev");
        }
        left -= (size_t)n;
        for (int i = 0; i < 2 && n > 0; i++) { /* skip what went out */
            size_t step = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + step;
            iov[i].iov_len -= step;
            n -= (ssize_t)step;
        }
    }
}

static size_t chan_receive(chan *c) {
    size_t len = 0;
    if (use_xipc) {
        if (xipc_stream_receive(c->r, c->buf, c->cap, &len) != XIPC_OK) die("xipc_stream_receive");
        return len;
    }
    uint32_t header;
    raw_full_read(c->rfd, (uint8_t *)&header, 4);
    len = ntohl(header) & 0x7fffffffu;
    if (len > c->cap) die("message too large");
    raw_full_read(c->rfd, c->buf, len);
    return len;
}

static void open_chan(chan *c, int rfd, int wfd, size_t cap) {
    c->rfd = rfd;
    c->wfd = wfd;
    c->cap = cap;
    c->buf = malloc(cap);
    if (!use_xipc) return;
    if (xipc_stream_from_fd(rfd, &c->r) != XIPC_OK) die("from_fd");
    if (wfd == rfd) {
        int dup_fd = dup(wfd);
        if (dup_fd < 0 || xipc_stream_from_fd(dup_fd, &c->w) != XIPC_OK) die("from_fd");
    } else if (xipc_stream_from_fd(wfd, &c->w) != XIPC_OK) {
        die("from_fd");
    }
}

/* ---- transports: two descriptor pairs, (parent read, parent write) and the child's ---- */

static void tcp_pair(int fds[2]) {
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&sa, &len))
        die("tcp listen");
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fds[0], (struct sockaddr *)&sa, sizeof sa)) die("tcp connect");
    fds[1] = accept(l, NULL, NULL);
    if (fds[1] < 0) die("accept");
    close(l);
    setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* parent[0]/[1] = parent's read/write fds, child[0]/[1] the child's. */
static void make_transport(const char *kind, int parent[2], int child[2]) {
    if (strcmp(kind, "pipe") == 0) {
        int down[2], up[2];
        if (pipe(down) || pipe(up)) die("pipe");
        parent[0] = up[0], parent[1] = down[1];
        child[0] = down[0], child[1] = up[1];
        return;
    }
    int fds[2];
    if (strcmp(kind, "unix") == 0) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds)) die("socketpair");
    } else if (strcmp(kind, "tcp") == 0) {
        tcp_pair(fds);
    } else {
        fprintf(stderr, "unknown transport %s\n", kind);
        exit(2);
    }
    parent[0] = parent[1] = fds[0];
    child[0] = child[1] = fds[1];
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: stream_bench <pipe|unix|tcp> <rtt|tput> <xipc|raw> <count> <size>\n");
        return 2;
    }
    const char *kind = argv[1], *mode = argv[2];
    use_xipc = strcmp(argv[3], "xipc") == 0;
    long count = atol(argv[4]);
    size_t size = (size_t)atol(argv[5]);
    int rtt = strcmp(mode, "rtt") == 0;
    signal(SIGPIPE, SIG_IGN);

    int parent[2], child[2];
    make_transport(kind, parent, child);
    uint8_t *msg = calloc(1, size);
    memset(msg, 0x5a, size);

    pid_t pid = fork();
    if (pid == 0) {
        if (parent[0] != child[0]) close(parent[0]);
        if (parent[1] != child[1] && parent[1] != parent[0]) close(parent[1]);
        chan c;
        open_chan(&c, child[0], child[1], size + 64);
        for (long i = 0; i < count; i++) {
            size_t n = chan_receive(&c);
            if (rtt) chan_send(&c, c.buf, n);
        }
        if (!rtt) chan_send(&c, (const uint8_t *)"k", 1); /* all received */
        _exit(0);
    }
    chan c;
    open_chan(&c, parent[0], parent[1], size + 64);
    /* Warm up both sides with one exchange before timing. */
    double start = now();
    for (long i = 0; i < count; i++) {
        chan_send(&c, msg, size);
        if (rtt) chan_receive(&c);
    }
    if (!rtt) chan_receive(&c);
    double elapsed = now() - start;
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("child failed");
    if (rtt) {
        printf("%s rtt %s %.3f us\n", kind, argv[3], elapsed / (double)count * 1e6);
    } else {
        printf("%s tput %s %.1f MB/s\n", kind, argv[3], (double)size * (double)count / elapsed / 1e6);
    }
    return 0;
}
