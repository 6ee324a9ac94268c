/* Hostile input through the C API: XDR with length prefixes larger than the
 * input or the limits, nesting too deep, truncation, a bool of 2, non-zero
 * padding; record-marked streams whose fragments add up past the maximum,
 * endless empty fragments and a writer that stops mid-message; and a live
 * xipc RPC server sent a call with rpcvers 3, AUTH_SYS with 17 groups or a
 * 300-byte machine name over TCP and UDP. Each gets its exact status (or
 * the reply RFC 5531 prescribes), the decoder does not move on failure, and
 * the server keeps serving a client connected before. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"

/* `call` returns `want` and the last error mentions `text`. */
#define EXPECT_ERR(want, text, call)                                                  \
    do {                                                                              \
        int rc_ = (call);                                                             \
        if (rc_ != (want) || strstr(xipc_last_error(), (text)) == NULL) {             \
            fprintf(stderr, "%s:%d: %s = %d (%s), expected %d with \"%s\"\n",         \
                    __FILE__, __LINE__, #call, rc_, xipc_last_error(), (want), (text)); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static size_t position(xipc_decoder *d) {
    size_t pos = 99;
    CHECK(xipc_decoder_position(d, &pos));
    return pos;
}

static void test_xdr(void) {
    xipc_decoder *d = NULL;
    uint8_t buf[64];
    size_t len = 0;

    /* An opaque claiming 2 GiB in a 12-byte input: beyond the 16 MiB item
     * limit, refused from the prefix alone. */
    static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(xipc_decoder_new(huge, sizeof huge, NULL, &d));
    EXPECT_ERR(XIPC_ELIMIT, "at byte 0", xipc_decoder_get_opaque(d, UINT32_MAX, buf, sizeof buf, &len));
    const uint8_t *ref = NULL;
    EXPECT_ERR(XIPC_ELIMIT, "at byte 0", xipc_decoder_get_opaque_ref(d, UINT32_MAX, &ref, &len));
    size_t count = 0;
    EXPECT_ERR(XIPC_ELIMIT, "at byte 0", xipc_decoder_get_count(d, UINT32_MAX, 4, &count));
    EXPECT(position(d) == 0);
    xipc_decoder_free(d);

    /* 4,096 claimed, within the limits but beyond the 8 bytes that follow. */
    static const uint8_t long_prefix[] = {0, 0, 0x10, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(xipc_decoder_new(long_prefix, sizeof long_prefix, NULL, &d));
    EXPECT_ERR(XIPC_EXDR, "at byte 0", xipc_decoder_get_opaque(d, UINT32_MAX, buf, sizeof buf, &len));
    EXPECT_ERR(XIPC_EXDR, "at byte 0", xipc_decoder_get_string_ref(d, UINT32_MAX, (const char **)&ref, &len));
    EXPECT_ERR(XIPC_EXDR, "at byte 0", xipc_decoder_get_count(d, UINT32_MAX, 4, &count));
    EXPECT(position(d) == 0);
    xipc_decoder_free(d);

    /* Lengths within the input but beyond the limits or the declared bound. */
    static const uint8_t eight[] = {0, 0, 0, 8, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
    xipc_limits lim = xipc_limits_default();
    lim.max_item_bytes = 4;
    lim.max_elements = 1;
    CHECK(xipc_decoder_new(eight, sizeof eight, &lim, &d));
    EXPECT_ERR(XIPC_ELIMIT, "at byte 0", xipc_decoder_get_opaque(d, UINT32_MAX, buf, sizeof buf, &len));
    EXPECT_ERR(XIPC_ELIMIT, "at byte 0", xipc_decoder_get_count(d, UINT32_MAX, 1, &count));
    xipc_decoder_free(d);
    CHECK(xipc_decoder_new(eight, sizeof eight, NULL, &d));
    EXPECT_ERR(XIPC_ELIMIT, "bound of 7", xipc_decoder_get_string(d, 7, (char *)buf, sizeof buf, &len));
    CHECK(xipc_decoder_get_string(d, 8, (char *)buf, sizeof buf, &len));
    EXPECT(len == 8 && strcmp((char *)buf, "abcdefgh") == 0);
    xipc_decoder_free(d);

    /* max_alloc, as generated C decoders charge it before allocating: two
     * 8-byte bodies when 12 bytes may be allocated. */
    static const uint8_t two[] = {0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    lim = xipc_limits_default();
    lim.max_alloc = 12;
    CHECK(xipc_decoder_new(two, sizeof two, &lim, &d));
    CHECK(xipc_decoder_get_count(d, 8, 1, &count));
    CHECK(xipc_decoder_charge(d, count));
    CHECK(xipc_decoder_set_position(d, 12));
    CHECK(xipc_decoder_get_count(d, 8, 1, &count));
    EXPECT_ERR(XIPC_ELIMIT, "", xipc_decoder_charge(d, count));
    xipc_decoder_free(d);

    /* Deep nesting: the 65th level is refused under the default depth 64. */
    CHECK(xipc_decoder_new(eight, sizeof eight, NULL, &d));
    for (int i = 0; i < 64; i++) CHECK(xipc_decoder_enter(d));
    EXPECT_ERR(XIPC_ELIMIT, "nesting deeper than the limit of 64", xipc_decoder_enter(d));
    for (int i = 0; i < 64; i++) CHECK(xipc_decoder_leave(d));
    xipc_decoder_free(d);

    /* Truncated: a hyper with 4 bytes, an opaque whose body is cut. */
    static const uint8_t cut[] = {0, 0, 0, 6, 'a', 'b', 'c', 'd'};
    CHECK(xipc_decoder_new(cut, sizeof cut, NULL, &d));
    int64_t h = 0;
    CHECK(xipc_decoder_set_position(d, 4));
    EXPECT_ERR(XIPC_EXDR, "at byte 4", xipc_decoder_get_hyper(d, &h));
    CHECK(xipc_decoder_set_position(d, 0));
    EXPECT_ERR(XIPC_EXDR, "at byte 0", xipc_decoder_get_opaque(d, 100, buf, sizeof buf, &len));
    EXPECT(position(d) == 0);
    xipc_decoder_free(d);

    /* A bool of 2, an optional flag of 2. */
    static const uint8_t bool2[] = {0, 0, 0, 1, 0, 0, 0, 2};
    CHECK(xipc_decoder_new(bool2, sizeof bool2, NULL, &d));
    bool b = false;
    CHECK(xipc_decoder_get_bool(d, &b));
    EXPECT(b);
    EXPECT_ERR(XIPC_EXDR, "at byte 4", xipc_decoder_get_bool(d, &b));
    EXPECT_ERR(XIPC_EXDR, "at byte 4", xipc_decoder_get_optional(d, &b));
    EXPECT(position(d) == 4 && b);
    xipc_decoder_free(d);

    /* Non-zero padding after an opaque and a string of 1 byte. */
    static const uint8_t pad[] = {0, 0, 0, 1, 'x', 0, 1, 0};
    CHECK(xipc_decoder_new(pad, sizeof pad, NULL, &d));
    EXPECT_ERR(XIPC_EXDR, "padding", xipc_decoder_get_opaque(d, 4, buf, sizeof buf, &len));
    EXPECT_ERR(XIPC_EXDR, "padding", xipc_decoder_get_string(d, 4, (char *)buf, sizeof buf, &len));
    EXPECT(position(d) == 0);
    xipc_decoder_free(d);

    /* The bulk decoders: a length that is not a whole number of items. */
    int32_t ints[2];
    EXPECT(xipc_xdr_decode_ints(cut, 6, ints, 2) == XIPC_EINVAL);
}

/* Writes raw bytes to the pipe's write end, past the xipc framing. */
static void raw_write(xipc_stream *w, const uint8_t *bytes, size_t n) {
    CHECK(xipc_stream_write_all(w, bytes, n));
}

static void header(uint8_t out[4], uint32_t len, int last) {
    uint32_t v = len | (last ? 0x80000000u : 0);
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static void test_records(void) {
    xipc_stream *r = NULL, *w = NULL;
    uint8_t buf[64], hdr[4];
    size_t len = 0;

    /* Fragments of 10 + 10 bytes when 16 are allowed: refused at the second
     * header, before its body is read. */
    CHECK(xipc_pipe(&r, &w));
    CHECK(xipc_stream_set_max_message_size(r, 16));
    header(hdr, 10, 0);
    raw_write(w, hdr, 4);
    raw_write(w, (const uint8_t *)"0123456789", 10);
    header(hdr, 10, 1);
    raw_write(w, hdr, 4);
    EXPECT_ERR(XIPC_EMSGSIZE, "at most 16", xipc_stream_receive(r, buf, sizeof buf, &len));
    /* The stream is now out of step with its frames: later receives say so. */
    EXPECT(xipc_stream_receive(r, buf, sizeof buf, &len) == XIPC_EPROTO);
    xipc_stream_close(r);
    xipc_stream_close(w);

    /* Endless empty fragments: refused after 4,096, with no message. */
    CHECK(xipc_pipe(&r, &w));
    static uint8_t empties[4 * 5000];
    for (size_t i = 0; i < 5000; i++) header(empties + 4 * i, 0, 0);
    raw_write(w, empties, sizeof empties); /* 20,000 bytes: fits the pipe */
    EXPECT_ERR(XIPC_EPROTO, "fragments", xipc_stream_receive(r, buf, sizeof buf, &len));
    xipc_stream_close(r);
    xipc_stream_close(w);

    /* A writer that stops inside a message: the reader gets XIPC_ECLOSED. */
    CHECK(xipc_pipe(&r, &w));
    header(hdr, 20, 1);
    raw_write(w, hdr, 4);
    raw_write(w, (const uint8_t *)"only ten b", 10);
    xipc_stream_close(w);
    EXPECT_ERR(XIPC_ECLOSED, "", xipc_stream_receive(r, buf, sizeof buf, &len));
    xipc_stream_close(r);

    /* A header claiming 2 GiB - 1 with the default 4 MiB maximum. */
    CHECK(xipc_pipe(&r, &w));
    header(hdr, 0x7fffffffu, 1);
    raw_write(w, hdr, 4);
    EXPECT_ERR(XIPC_EMSGSIZE, "2147483647", xipc_stream_receive(r, buf, sizeof buf, &len));
    xipc_stream_close(r);
    xipc_stream_close(w);
}

/* ---- a live RPC server and a raw peer ---- */

#define PROG 0x20007777u

static int echo(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                xipc_encoder *result) {
    (void)user;
    (void)call;
    return xipc_encoder_put_raw(result, args, len);
}

typedef struct {
    uint8_t b[1024];
    size_t n;
} msg;

static void put(msg *m, uint32_t v) {
    uint32_t be = htonl(v);
    memcpy(m->b + m->n, &be, 4);
    m->n += 4;
}

static void put_string(msg *m, const char *s) {
    size_t len = strlen(s);
    put(m, (uint32_t)len);
    memcpy(m->b + m->n, s, len);
    m->n += len;
    while (m->n % 4) m->b[m->n++] = 0;
}

/* A call to procedure 1 with the given rpcvers and credential. */
static msg make_call(uint32_t xid, uint32_t rpcvers, uint32_t flavor, const msg *cred) {
    msg m = {.n = 0};
    put(&m, xid);
    put(&m, 0); /* CALL */
    put(&m, rpcvers);
    put(&m, PROG);
    put(&m, 1);
    put(&m, 1);
    put(&m, flavor);
    put(&m, (uint32_t)cred->n);
    memcpy(m.b + m.n, cred->b, cred->n);
    m.n += cred->n;
    put(&m, 0); /* AUTH_NONE verifier */
    put(&m, 0);
    return m;
}

static msg auth_sys(const char *machine, int ngids) {
    msg m = {.n = 0};
    put(&m, 1);
    put_string(&m, machine);
    put(&m, 1000);
    put(&m, 1000);
    put(&m, (uint32_t)ngids);
    for (int i = 0; i < ngids; i++) put(&m, (uint32_t)i + 1);
    return m;
}

static int tcp_socket(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int read_full(int fd, uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t got = read(fd, p, n);
        if (got <= 0) return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

/* Sends `m` as one record on TCP and one datagram on UDP; both replies must
 * equal `want`. */
static void expect_reply(int tcp, int udp, uint16_t udp_port, const msg *m, const uint8_t *want,
                         size_t want_len) {
    uint8_t frame[1100], reply[1100];
    uint32_t mark = htonl(0x80000000u | (uint32_t)m->n);
    memcpy(frame, &mark, 4);
    memcpy(frame + 4, m->b, m->n);
    EXPECT(write(tcp, frame, m->n + 4) == (ssize_t)(m->n + 4));
    EXPECT(read_full(tcp, reply, 4) == 0);
    uint32_t rlen = ntohl(*(uint32_t *)reply) & 0x7fffffffu;
    EXPECT(rlen == want_len && read_full(tcp, reply, rlen) == 0);
    EXPECT(memcmp(reply, want, want_len) == 0);

    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(udp_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT(sendto(udp, m->b, m->n, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)m->n);
    ssize_t got = recv(udp, reply, sizeof reply, 0);
    EXPECT(got == (ssize_t)want_len && memcmp(reply, want, want_len) == 0);
}

static void still_served(xipc_rpc_client *const *old, int n) {
    const uint8_t args[4] = {0, 0, 0, 42};
    for (int i = 0; i < n; i++) {
        uint8_t *reply = NULL;
        size_t len = 0;
        CHECK(xipc_rpc_client_call(old[i], 1, args, sizeof args, &reply, &len));
        EXPECT(len == 4 && memcmp(reply, args, 4) == 0);
        xipc_bytes_free(reply, len);
    }
}

static void test_rpc(void) {
    xipc_rpc_server *s = NULL;
    uint16_t tcp_port = 0, udp_port = 0;
    CHECK(xipc_rpc_server_new(&s));
    CHECK(xipc_rpc_server_set_rpcbind_registration(s, false));
    CHECK(xipc_rpc_server_register(s, PROG, 1, 1, echo, NULL));
    CHECK(xipc_rpc_server_listen_tcp(s, "127.0.0.1", 0, &tcp_port));
    CHECK(xipc_rpc_server_listen_udp(s, "127.0.0.1", 0, &udp_port));
    CHECK(xipc_rpc_server_start(s));

    xipc_rpc_client *old[2] = {NULL, NULL};
    CHECK(xipc_rpc_client_connect("127.0.0.1", tcp_port, PROG, 1, "tcp", &old[0]));
    CHECK(xipc_rpc_client_connect("127.0.0.1", udp_port, PROG, 1, "udp", &old[1]));
    for (int i = 0; i < 2; i++) CHECK(xipc_rpc_client_set_timeout(old[i], 10000));
    still_served(old, 2);

    int tcp = tcp_socket(tcp_port);
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    struct timeval tv = {10, 0};
    setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    msg none = {.n = 0};

    /* rpcvers 3: MSG_DENIED, RPC_MISMATCH, supported 2..2. */
    msg m = make_call(0x301, 3, 0, &none);
    static const uint8_t mismatch[] = {0, 0, 3, 1, 0, 0, 0, 1, 0, 0, 0, 1,
                                       0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2};
    expect_reply(tcp, udp, udp_port, &m, mismatch, sizeof mismatch);
    still_served(old, 2);

    /* AUTH_SYS with 17 groups: MSG_DENIED, AUTH_ERROR, AUTH_BADCRED. */
    msg cred = auth_sys("host", 17);
    m = make_call(0x302, 2, 1, &cred);
    static const uint8_t badcred17[] = {0, 0, 3, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    expect_reply(tcp, udp, udp_port, &m, badcred17, sizeof badcred17);
    still_served(old, 2);

    /* A 300-byte machine name (255 at most), in a 340-byte credential that
     * itself is within the 400-byte bound. */
    char machine[301];
    memset(machine, 'm', 300);
    machine[300] = '\0';
    cred = auth_sys(machine, 0);
    m = make_call(0x303, 2, 1, &cred);
    static const uint8_t badcred300[] = {0, 0, 3, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    expect_reply(tcp, udp, udp_port, &m, badcred300, sizeof badcred300);
    still_served(old, 2);

    /* The same raw connection still gets a normal call answered. */
    cred = auth_sys("fine", 16);
    m = make_call(0x304, 2, 1, &cred);
    static const uint8_t success[] = {0, 0, 3, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_reply(tcp, udp, udp_port, &m, success, sizeof success);

    /* The xipc client refuses to send such credentials in the first place. */
    uint32_t gids[17] = {0};
    EXPECT(xipc_rpc_client_set_auth_sys(old[0], 0, "h", 0, 0, gids, 17) == XIPC_EINVAL);
    EXPECT(xipc_rpc_client_set_auth_sys(old[0], 0, machine, 0, 0, gids, 0) == XIPC_EINVAL);
    still_served(old, 2);

    close(tcp);
    close(udp);
    for (int i = 0; i < 2; i++) xipc_rpc_client_close(old[i]);
    CHECK(xipc_rpc_server_stop(s));
    xipc_rpc_server_close(s);
}

int main(void) {
    test_xdr();
    test_records();
    test_rpc();
    puts("hostile_input: ok");
    return 0;
}
