/* A signal (a handler installed without SA_RESTART) arriving during every
 * kind of blocking call, each handled as the book (docs/src) documents, and no
 * message lost or duplicated:
 *   - stream receive and read: XIPC_EINTR; what had arrived stays, and the
 *     next receive completes the message;
 *   - stream send blocked on a full pipe: XIPC_EINTR with nothing of the
 *     message written, or XIPC_OK with all of it delivered, exactly once;
 *   - listener accept: XIPC_EINTR; the next accept takes the connection;
 *   - tcp_connect with a timeout, waiting on a listener whose queue is full:
 *     resumed, ending with XIPC_ETIMEDOUT at its deadline;
 *   - mq send on a full queue: resumed (default), or XIPC_EINTR with the
 *     message not queued when retrying is off (mq receive: tests/c/mq_signal.c);
 *   - rpc call, signalled once its handler is in and the caller sleeps:
 *     resumed, answered once, the handler run once (on UDP while the call
 *     is retransmitted to it).
 * The other calls are signalled once /proc shows the main thread asleep in
 * the call's system call (on the call's descriptor where it has one), and
 * what lets a call finish (data, a connection, room in the queue) comes only
 * once the signal handler has run. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "waiting.h"

static volatile sig_atomic_t signals_seen;
static void on_signal(int sig) {
    (void)sig;
    /* Atomic: the RPC test's helper thread watches it. */
    __atomic_add_fetch(&signals_seen, 1, __ATOMIC_SEQ_CST);
}

static pthread_t main_thread;
static pid_t main_tid;

/* System calls a thread can be blocked in, each list ending with -1. */
static const long in_read[] = {SYS_read, -1};
/* Pipes are written with pwritev2 (RWF_NOSIGNAL) where the kernel has it. */
static const long in_write[] = {SYS_write, SYS_writev,
#ifdef SYS_pwritev2
                                SYS_pwritev2,
#endif
                                -1};
static const long in_poll[] = {
#ifdef SYS_poll
    SYS_poll,
#endif
    SYS_ppoll, -1};
static const long in_mq_send[] = {SYS_mq_timedsend, -1};

/* A helper thread: once the main thread is blocked in one of `syscalls`
 * (on `fd`, unless -1), signals it; once the signal handler has run, runs
 * `then(arg)` (if any), which lets the call finish. */
typedef struct {
    const char *call;
    const long *syscalls;
    int fd;
    void (*then)(void *);
    void *arg;
    int signals_before;
    pthread_t thread;
} poke;

static void *poke_main(void *p) {
    poke *k = p;
    double t0 = now_ms();
    char what[128];
    snprintf(what, sizeof what, "%s to block", k->call);
    UNTIL(what, t0, blocked_in(main_tid, k->syscalls, k->fd));
    pthread_kill(main_thread, SIGUSR1);
    UNTIL("the signal handler to run", t0,
          __atomic_load_n(&signals_seen, __ATOMIC_SEQ_CST) == k->signals_before + 1);
    if (k->then != NULL) k->then(k->arg);
    return NULL;
}

static void start_poke(poke *k, const char *call, const long *syscalls, int fd,
                       void (*then)(void *), void *arg) {
    k->call = call;
    k->syscalls = syscalls;
    k->fd = fd;
    k->then = then;
    k->arg = arg;
    k->signals_before = __atomic_load_n(&signals_seen, __ATOMIC_SEQ_CST);
    EXPECT(pthread_create(&k->thread, NULL, poke_main, k) == 0);
}

static void join_poke(poke *k) {
    EXPECT(pthread_join(k->thread, NULL) == 0);
}

/* ---- streams ---- */

static xipc_stream *pipe_w;
static void write_rest(void *arg) {
    const char *rest = arg;
    CHECK(xipc_stream_write_all(pipe_w, (const uint8_t *)rest, strlen(rest)));
}

static void test_recv_msg_and_read(void) {
    xipc_stream *r = NULL;
    CHECK(xipc_pipe(&r, &pipe_w));
    /* Half a message: header for 9 bytes, 4 of them. */
    static const uint8_t head[] = {0x80, 0, 0, 9, 'h', 'a', 'l', 'f'};
    CHECK(xipc_stream_write_all(pipe_w, head, sizeof head));
    uint8_t buf[64];
    size_t len = 0;
    int rfd = -1;
    CHECK(xipc_stream_fd(r, &rfd));
    poke k;
    int before = signals_seen;
    start_poke(&k, "xipc_stream_receive", in_read, rfd, write_rest, "-done");
    EXPECT(xipc_stream_receive(r, buf, sizeof buf, &len) == XIPC_EINTR);
    EXPECT(signals_seen == before + 1);
    /* The 4 bytes read so far are kept: the next call completes the message. */
    CHECK(xipc_stream_receive(r, buf, sizeof buf, &len));
    EXPECT(len == 9 && memcmp(buf, "half-done", 9) == 0);
    join_poke(&k);
    /* Nothing else is waiting: no duplicate. */
    CHECK(xipc_stream_set_nonblocking(r, true));
    EXPECT(xipc_stream_receive(r, buf, sizeof buf, &len) == XIPC_EAGAIN);
    CHECK(xipc_stream_set_nonblocking(r, false));

    /* Raw read on an empty pipe. */
    start_poke(&k, "xipc_stream_read", in_read, rfd, write_rest, "raw");
    EXPECT(xipc_stream_read(r, buf, sizeof buf, &len) == XIPC_EINTR);
    CHECK(xipc_stream_read(r, buf, sizeof buf, &len));
    EXPECT(len == 3 && memcmp(buf, "raw", 3) == 0);
    join_poke(&k);
    xipc_stream_close(r);
    xipc_stream_close(pipe_w);
}

static xipc_stream *drain_r;
static void *drain(void *arg) {
    size_t *total = arg;
    uint8_t buf[65536];
    size_t n = 0;
    *total = 0;
    while (xipc_stream_read(drain_r, buf, sizeof buf, &n) == XIPC_OK && n > 0) *total += n;
    return NULL;
}

static void test_send_msg(void) {
    xipc_stream *r = NULL, *w = NULL;
    CHECK(xipc_pipe(&r, &w));
    /* Fill the pipe with one raw block of known size. */
    static uint8_t block[65536];
    CHECK(xipc_stream_set_nonblocking(w, true));
    size_t filled = 0, n = 0;
    while (xipc_stream_write(w, block, sizeof block, &n) == XIPC_OK && n > 0) filled += n;
    CHECK(xipc_stream_set_nonblocking(w, false));
    EXPECT(filled > 0);

    static uint8_t big[100000];
    memset(big, 'b', sizeof big);
    int wfd = -1;
    CHECK(xipc_stream_fd(w, &wfd));
    poke k;
    start_poke(&k, "xipc_stream_send", in_write, wfd, NULL, NULL);
    int rc = xipc_stream_send(w, big, sizeof big);
    join_poke(&k);
    EXPECT(rc == XIPC_EINTR || rc == XIPC_OK);
    if (rc == XIPC_OK) CHECK(xipc_stream_flush(w));
    xipc_stream_close(w);

    /* Count what the reader gets: the filler, plus the framed message
     * exactly once if send succeeded, plus nothing otherwise. */
    drain_r = r;
    size_t total = 0;
    pthread_t t;
    EXPECT(pthread_create(&t, NULL, drain, &total) == 0);
    EXPECT(pthread_join(t, NULL) == 0);
    size_t want = filled + (rc == XIPC_OK ? 4 + sizeof big : 0);
    if (total != want) {
        fprintf(stderr, "send interrupted (rc %d): reader got %zu bytes, expected %zu\n", rc,
                total, want);
        exit(1);
    }
    printf("fault_signal: send interrupted on a full pipe -> %s\n",
           rc == XIPC_OK ? "completed" : "XIPC_EINTR, nothing written");
    xipc_stream_close(r);
}

static void test_accept(void) {
    xipc_listener *l = NULL;
    CHECK(xipc_tcp_listen("127.0.0.1", 0, &l));
    uint16_t port = 0;
    CHECK(xipc_listener_port(l, &port));
    xipc_stream *s = NULL;
    poke k;
    start_poke(&k, "xipc_listener_accept", in_poll, -1, NULL, NULL);
    EXPECT(xipc_listener_accept(l, XIPC_WAIT_FOREVER, &s) == XIPC_EINTR);
    join_poke(&k);
    EXPECT(s == NULL);
    /* The listener still works. */
    xipc_stream *c = NULL;
    CHECK(xipc_tcp_connect("127.0.0.1", port, 2000, &c));
    CHECK(xipc_listener_accept(l, 2000, &s));
    CHECK(xipc_stream_send(c, (const uint8_t *)"hi", 2));
    uint8_t buf[8];
    size_t len = 0;
    CHECK(xipc_stream_receive(s, buf, sizeof buf, &len));
    EXPECT(len == 2 && memcmp(buf, "hi", 2) == 0);
    xipc_stream_close(c);
    xipc_stream_close(s);
    xipc_listener_close(l);
}

static void test_connect(void) {
    /* A listener that never accepts, with a backlog of 0: once its queue
     * holds a connection, further SYNs are dropped and connect waits. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    EXPECT(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 0) == 0);
    EXPECT(getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
    uint16_t port = ntohs(a.sin_port);
    xipc_stream *held[4] = {NULL, NULL, NULL, NULL};
    int nheld = 0;
    /* Fill the queue: connects that complete at once. */
    while (nheld < 4 && xipc_tcp_connect("127.0.0.1", port, 300, &held[nheld]) == XIPC_OK) nheld++;
    EXPECT(nheld >= 1 && nheld < 4);
    /* A connect with a timeout resumes after the signal and keeps its
     * deadline: it ends with XIPC_ETIMEDOUT at the deadline, not before. */
    poke k;
    int before = signals_seen;
    start_poke(&k, "xipc_tcp_connect", in_poll, -1, NULL, NULL);
    xipc_stream *s = NULL;
    double t0 = now_ms();
    int rc = xipc_tcp_connect("127.0.0.1", port, 1500, &s);
    double took = now_ms() - t0;
    join_poke(&k);
    EXPECT(signals_seen == before + 1);
    EXPECT(rc == XIPC_ETIMEDOUT && s == NULL);
    EXPECT(took >= 1450 && took < 5000);
    for (int i = 0; i < nheld; i++) xipc_stream_close(held[i]);
    close(lfd);
}

/* ---- message queues ---- */

static void make_room(void *arg) {
    uint8_t buf[16];
    size_t len = 0;
    unsigned prio = 0;
    CHECK(xipc_mq_receive(arg, buf, sizeof buf, &len, &prio));
    EXPECT(len == 3 && memcmp(buf, "one", 3) == 0);
}

static void test_mq_send(void) {
    char name[64];
    snprintf(name, sizeof name, "/xipc-fault-signal-%d", (int)getpid());
    xipc_mq_attr attr = {0, 2, 16, 0};
    xipc_mq *q = NULL;
    CHECK(xipc_mq_open(name, XIPC_MQ_RDWR | XIPC_MQ_CREATE | XIPC_MQ_EXCL, 0600, &attr, &q));
    CHECK(xipc_mq_unlink(name));
    CHECK(xipc_mq_send(q, "one", 3, 1));
    CHECK(xipc_mq_send(q, "two", 3, 1));

    /* Default: an interrupted send resumes; a receive made after the
     * signal makes room and the send completes. */
    uint8_t buf[16];
    size_t len = 0;
    unsigned prio = 0;
    int qfd = -1;
    CHECK(xipc_mq_fd(q, &qfd));
    poke k;
    int before = signals_seen;
    start_poke(&k, "xipc_mq_send", in_mq_send, qfd, make_room, q);
    CHECK(xipc_mq_send(q, "three", 5, 9));
    join_poke(&k);
    EXPECT(signals_seen == before + 1);

    /* Retrying off: a signal ends the wait with XIPC_EINTR, nothing queued. */
    CHECK(xipc_mq_set_retry_on_signal(q, false));
    start_poke(&k, "xipc_mq_send", in_mq_send, qfd, NULL, NULL);
    EXPECT(xipc_mq_send(q, "three", 5, 9) == XIPC_EINTR);
    join_poke(&k);
    xipc_mq_attr now;
    CHECK(xipc_mq_attributes(q, &now));
    EXPECT(now.current_messages == 2);
    CHECK(xipc_mq_set_retry_on_signal(q, true));
    /* Exactly what was sent: "three" (priority 9) then "two"; no "three" twice. */
    CHECK(xipc_mq_receive(q, buf, sizeof buf, &len, &prio));
    EXPECT(len == 5 && memcmp(buf, "three", 5) == 0 && prio == 9);
    CHECK(xipc_mq_receive(q, buf, sizeof buf, &len, &prio));
    EXPECT(len == 3 && memcmp(buf, "two", 3) == 0 && prio == 1);
    CHECK(xipc_mq_attributes(q, &now));
    EXPECT(now.current_messages == 0);
    CHECK(xipc_mq_close(q));
}

/* ---- RPC ---- */

#define PROG 0x20009999u
static int handler_runs;
/* Pipes: the handler writes to `entered` once it is in, then stays until it
 * reads from `released`. */
static int entered[2], released[2];

static int held_echo(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                     xipc_encoder *result) {
    (void)user;
    (void)call;
    __atomic_add_fetch(&handler_runs, 1, __ATOMIC_SEQ_CST);
    char b = 'e';
    EXPECT(write(entered[1], &b, 1) == 1);
    struct pollfd out = {released[0], POLLIN, 0};
    EXPECT(poll(&out, 1, 20000) == 1 && read(released[0], &b, 1) == 1);
    return xipc_encoder_put_raw(result, args, len);
}

/* A UDP relay between one client and 127.0.0.1:`to`, counting the
 * datagrams it passes on towards `to`. */
typedef struct {
    int front, back, stop[2];
    uint16_t port;
    int sent;
    pthread_t thread;
} udp_relay;

static void *relay_run(void *p) {
    udp_relay *r = p;
    struct sockaddr_in client;
    socklen_t client_len = 0;
    uint8_t buf[65536];
    for (;;) {
        struct pollfd fds[3] = {
            {r->front, POLLIN, 0}, {r->back, POLLIN, 0}, {r->stop[0], POLLIN, 0}};
        EXPECT(poll(fds, 3, -1) > 0);
        if (fds[2].revents) return NULL;
        if (fds[0].revents) {
            client_len = sizeof client;
            ssize_t n =
                recvfrom(r->front, buf, sizeof buf, 0, (struct sockaddr *)&client, &client_len);
            EXPECT(n >= 0 && send(r->back, buf, (size_t)n, 0) == n);
            __atomic_add_fetch(&r->sent, 1, __ATOMIC_SEQ_CST);
        }
        if (fds[1].revents) {
            ssize_t n = recv(r->back, buf, sizeof buf, 0);
            EXPECT(n >= 0);
            if (client_len > 0)
                sendto(r->front, buf, (size_t)n, 0, (struct sockaddr *)&client, client_len);
        }
    }
}

static void relay_start(udp_relay *r, uint16_t to) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    r->front = socket(AF_INET, SOCK_DGRAM, 0);
    r->back = socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT(r->front >= 0 && r->back >= 0);
    EXPECT(bind(r->front, (struct sockaddr *)&a, sizeof a) == 0);
    EXPECT(getsockname(r->front, (struct sockaddr *)&a, &alen) == 0);
    r->port = ntohs(a.sin_port);
    a.sin_port = htons(to);
    EXPECT(connect(r->back, (struct sockaddr *)&a, sizeof a) == 0);
    r->sent = 0;
    EXPECT(pipe(r->stop) == 0);
    EXPECT(pthread_create(&r->thread, NULL, relay_run, r) == 0);
}

static void relay_stop(udp_relay *r) {
    EXPECT(write(r->stop[1], "x", 1) == 1);
    EXPECT(pthread_join(r->thread, NULL) == 0);
    close(r->stop[0]);
    close(r->stop[1]);
    close(r->front);
    close(r->back);
}

/* The helper thread of the RPC test: once the handler is in and the main
 * thread, whose call it holds, sleeps in the kernel, signals the main
 * thread; once the signal has been handled (and, with a relay, the call
 * retransmitted to the server), lets the handler out. */
typedef struct {
    int signals_before;
    udp_relay *relay;
    pthread_t thread;
} rpc_poke;

static void *rpc_poke_main(void *p) {
    rpc_poke *k = p;
    double t0 = now_ms();
    struct pollfd in = {entered[0], POLLIN, 0};
    EXPECT(poll(&in, 1, 10000) == 1);
    char b;
    EXPECT(read(entered[0], &b, 1) == 1);
    UNTIL("the call to block", t0, blocked_in(main_tid, NULL, -1));
    pthread_kill(main_thread, SIGUSR1);
    UNTIL("the signal to be handled", t0,
          __atomic_load_n(&signals_seen, __ATOMIC_SEQ_CST) == k->signals_before + 1);
    if (k->relay != NULL)
        UNTIL("a retransmission", t0, __atomic_load_n(&k->relay->sent, __ATOMIC_SEQ_CST) >= 2);
    EXPECT(write(released[1], "r", 1) == 1);
    return NULL;
}

static void test_rpc_call(void) {
    xipc_rpc_server *s = NULL;
    uint16_t tcp = 0, udp = 0;
    EXPECT(pipe(entered) == 0 && pipe(released) == 0);
    CHECK(xipc_rpc_server_new(&s));
    CHECK(xipc_rpc_server_set_rpcbind_registration(s, false));
    /* UDP retransmits every 250 ms at first; the duplicate-request cache
     * keeps the held handler from running once per retransmission. */
    CHECK(xipc_rpc_server_set_duplicate_cache(s, 64));
    CHECK(xipc_rpc_server_register(s, PROG, 1, 1, held_echo, NULL));
    CHECK(xipc_rpc_server_listen_tcp(s, "127.0.0.1", 0, &tcp));
    CHECK(xipc_rpc_server_listen_udp(s, "127.0.0.1", 0, &udp));
    CHECK(xipc_rpc_server_start(s));
    const char *protos[2] = {"tcp", "udp"};
    for (int i = 0; i < 2; i++) {
        /* UDP goes through a relay that counts the retransmissions. */
        udp_relay relay;
        uint16_t port = tcp;
        if (i == 1) {
            relay_start(&relay, udp);
            port = relay.port;
        }
        xipc_rpc_client *c = NULL;
        CHECK(xipc_rpc_client_connect("127.0.0.1", port, PROG, 1, protos[i], &c));
        CHECK(xipc_rpc_client_set_timeout(c, 10000));
        __atomic_store_n(&handler_runs, 0, __ATOMIC_SEQ_CST);
        const uint8_t args[4] = {0, 0, 0, 7};
        uint8_t *reply = NULL;
        size_t len = 0;
        rpc_poke k = {signals_seen, i == 1 ? &relay : NULL, 0};
        EXPECT(pthread_create(&k.thread, NULL, rpc_poke_main, &k) == 0);
        CHECK(xipc_rpc_client_call(c, 1, args, sizeof args, &reply, &len));
        EXPECT(pthread_join(k.thread, NULL) == 0);
        EXPECT(signals_seen == k.signals_before + 1);
        EXPECT(len == 4 && memcmp(reply, args, 4) == 0);
        xipc_bytes_free(reply, len);
        int runs = __atomic_load_n(&handler_runs, __ATOMIC_SEQ_CST);
        if (runs != 1) fprintf(stderr, "%s: handler ran %d times\n", protos[i], runs);
        EXPECT(runs == 1);
        xipc_rpc_client_close(c);
        if (i == 1) relay_stop(&relay);
    }
    CHECK(xipc_rpc_server_stop(s));
    xipc_rpc_server_close(s);
    for (int i = 0; i < 2; i++) {
        close(entered[i]);
        close(released[i]);
    }
}

int main(void) {
    main_thread = pthread_self();
    main_tid = gettid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls see EINTR */
    EXPECT(sigaction(SIGUSR1, &sa, NULL) == 0);

    test_recv_msg_and_read();
    test_send_msg();
    test_accept();
    test_connect();
    test_mq_send();
    test_rpc_call();
    puts("fault_signal: ok");
    return 0;
}
