/* Streams from C: pipes, hand-written frames, FIFOs, TCP over IPv4 and IPv6,
 * Unix sockets with peer credentials, timeouts and error codes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void round_trip(xipc_stream *from, xipc_stream *to, const char *text) {
    uint8_t buf[256];
    size_t len = 0;
    CHECK(xipc_stream_send(from, (const uint8_t *)text, strlen(text)));
    CHECK(xipc_stream_receive(to, buf, sizeof buf, &len));
    EXPECT(len == strlen(text) && memcmp(buf, text, len) == 0);
}

static void test_pipe(void) {
    xipc_stream *r = NULL, *w = NULL;
    CHECK(xipc_pipe(&r, &w));
    round_trip(w, r, "hello from C");

    /* A record written by hand, in two fragments, with plain write(2). */
    static const uint8_t frame[] = {0, 0, 0, 2, 'h', 'i', 0x80, 0, 0, 1, '!'};
    int wfd = -1;
    CHECK(xipc_stream_fd(w, &wfd));
    EXPECT(write(wfd, frame, sizeof frame) == (ssize_t)sizeof frame);
    uint8_t buf[16];
    size_t len = 0;
    CHECK(xipc_stream_receive(r, buf, sizeof buf, &len));
    EXPECT(len == 3 && memcmp(buf, "hi!", 3) == 0);

    /* Too small a buffer: XIPC_EMSGSIZE, and the message stays. */
    CHECK(xipc_stream_send(w, (const uint8_t *)"0123456789", 10));
    EXPECT(xipc_stream_receive(r, buf, 4, &len) == XIPC_EMSGSIZE);
    size_t next = 0;
    CHECK(xipc_stream_next_message_len(r, &next));
    EXPECT(next == 10);
    uint8_t *data = NULL;
    CHECK(xipc_stream_receive_alloc(r, &data, &len));
    EXPECT(len == 10 && memcmp(data, "0123456789", 10) == 0);
    xipc_bytes_free(data, len);

    /* Empty pipe with a read timeout. */
    CHECK(xipc_stream_set_read_timeout(r, 30));
    EXPECT(xipc_stream_receive(r, buf, sizeof buf, &len) == XIPC_ETIMEDOUT);
    CHECK(xipc_stream_set_read_timeout(r, XIPC_WAIT_FOREVER));
    CHECK(xipc_stream_set_nonblocking(r, true));
    EXPECT(xipc_stream_receive(r, buf, sizeof buf, &len) == XIPC_EAGAIN);
    CHECK(xipc_stream_set_nonblocking(r, false));

    /* Hostile header: refused by the maximum, before any body arrives. */
    static const uint8_t hostile[] = {0x7f, 0xff, 0xff, 0xff};
    CHECK(xipc_stream_write_all(w, hostile, sizeof hostile));
    EXPECT(xipc_stream_receive(r, buf, sizeof buf, &len) == XIPC_EMSGSIZE);
    EXPECT(strstr(xipc_last_error(), "2147483647") != NULL);
    EXPECT(xipc_stream_next_message_len(r, &next) == XIPC_ENOENT);

    /* Pipes cannot be shut down; NULL handles are errors, not crashes. */
    EXPECT(xipc_stream_shutdown(w, XIPC_SHUT_WR) == XIPC_EUNSUPPORTED);
    EXPECT(xipc_stream_send(NULL, buf, 1) == XIPC_EINVAL);
    EXPECT(xipc_stream_fd(NULL, &wfd) == XIPC_EINVAL);
    EXPECT(xipc_stream_fd(w, NULL) == XIPC_EINVAL);
    xipc_stream_close(r);
    xipc_stream_close(w);
    xipc_stream_close(NULL);
}

static void test_peer_closes_mid_frame(void) {
    xipc_stream *r = NULL, *w = NULL;
    CHECK(xipc_pipe(&r, &w));
    static const uint8_t part[] = {0x80, 0, 0, 8, 1, 2, 3};
    CHECK(xipc_stream_write_all(w, part, sizeof part));
    xipc_stream_close(w);
    uint8_t buf[16];
    size_t len = 0;
    EXPECT(xipc_stream_receive(r, buf, sizeof buf, &len) == XIPC_ECLOSED);
    EXPECT(strstr(xipc_last_error(), "3 of 8 bytes") != NULL);
    xipc_stream_close(r);
}

/* A reader that has gone: the writer gets XIPC_ECLOSED, not a SIGPIPE that
 * kills it, with the signal's default action in place (C programs do not
 * ignore it unless told to), and the writer's signal mask is as it was. */
static void test_reader_gone(void) {
    signal(SIGPIPE, SIG_DFL);
    xipc_stream *r = NULL, *w = NULL;
    CHECK(xipc_pipe(&r, &w));
    xipc_stream_close(r);
    for (int i = 0; i < 3; i++) {
        EXPECT(xipc_stream_send(w, (const uint8_t *)"lost", 4) == XIPC_ECLOSED);
    }
    sigset_t mask, pending;
    EXPECT(pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0 && !sigismember(&mask, SIGPIPE));
    EXPECT(sigpending(&pending) == 0 && !sigismember(&pending, SIGPIPE));
    xipc_stream_close(w);
}

static void test_fifo(const char *dir) {
    char path[256];
    snprintf(path, sizeof path, "%s/fifo", dir);
    CHECK(xipc_mkfifo(path, 0600));
    struct stat st;
    EXPECT(stat(path, &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0600);
    EXPECT(xipc_mkfifo(path, 0600) == XIPC_EEXIST);
    xipc_stream *w = NULL, *r = NULL;
    EXPECT(xipc_fifo_open(path, XIPC_FIFO_WRITE, false, &w) == XIPC_EAGAIN);
    CHECK(xipc_fifo_open(path, XIPC_FIFO_READ, false, &r));
    CHECK(xipc_fifo_open(path, XIPC_FIFO_WRITE, true, &w));
    CHECK(xipc_stream_set_nonblocking(r, false));
    round_trip(w, r, "through a FIFO");
    xipc_stream_close(r);
    xipc_stream_close(w);
    unlink(path);
}

static void test_tcp(const char *host) {
    xipc_listener *l = NULL;
    CHECK(xipc_tcp_listen(host, 0, &l));
    uint16_t port = 0;
    CHECK(xipc_listener_port(l, &port));
    EXPECT(port != 0);
    xipc_stream *c = NULL, *s = NULL;
    EXPECT(xipc_listener_accept(l, 20, &s) == XIPC_ETIMEDOUT);
    CHECK(xipc_tcp_connect(host, port, 5000, &c));
    CHECK(xipc_listener_accept(l, 5000, &s));
    round_trip(c, s, host);
    round_trip(s, c, "and back");
    CHECK(xipc_stream_shutdown(c, XIPC_SHUT_WR));
    uint8_t buf[8];
    size_t len = 0;
    EXPECT(xipc_stream_receive(s, buf, sizeof buf, &len) == XIPC_ECLOSED);
    EXPECT(strcmp(xipc_last_error(), "end of stream") == 0);
    xipc_peer_credentials pc;
    EXPECT(xipc_stream_peer_credentials(s, &pc) == XIPC_EUNSUPPORTED);
    xipc_stream_close(c);
    xipc_stream_close(s);
    xipc_listener_close(l);
}

static void test_unix(const char *dir) {
    char path[256];
    snprintf(path, sizeof path, "%s/sock", dir);
    xipc_listener *l = NULL;
    CHECK(xipc_unix_listen(path, 0600, &l));
    struct stat st;
    EXPECT(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
    uint16_t port;
    EXPECT(xipc_listener_port(l, &port) == XIPC_EINVAL);
    xipc_stream *c = NULL, *s = NULL;
    CHECK(xipc_unix_connect(path, 1000, &c));
    CHECK(xipc_listener_accept(l, 1000, &s));
    xipc_peer_credentials pc;
    CHECK(xipc_stream_peer_credentials(s, &pc));
    EXPECT(pc.pid == getpid() && pc.uid == getuid() && pc.gid == getgid());
    round_trip(c, s, "over a Unix socket");

    xipc_listener *again = NULL;
    EXPECT(xipc_unix_listen(path, 0600, &again) == XIPC_EEXIST);
    xipc_stream_close(c);
    xipc_stream_close(s);
    xipc_listener_close(l);
    EXPECT(access(path, F_OK) != 0);
    EXPECT(xipc_unix_connect(path, 100, &c) == XIPC_ENOENT);
}

int main(void) {
    char dir[] = "/tmp/xipc-stream-c-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_pipe();
    test_peer_closes_mid_frame();
    test_reader_gone();
    test_fifo(dir);
    test_tcp("127.0.0.1");
    test_tcp("::1");
    test_unix(dir);
    rmdir(dir);
    puts("stream_basic: ok");
    return 0;
}
