/* The RPC C API: a server with C handlers and clients over TCP, UDP and a
 * Unix socket in one process; every error status and its details. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"

#define PROG 0x20005678u

static int calls_seen;

/* Counts the server threads that ended (the server's threads call it). */
static void thread_ended(void *user) {
    __atomic_fetch_add((int *)user, 1, __ATOMIC_SEQ_CST);
}

/* Procedure 1: echo. */
static int echo(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                xipc_encoder *result) {
    int *seen = user;
    (*seen)++;
    if (xipc_rpc_call_prog(call) != PROG || xipc_rpc_call_procedure(call) != 1)
        return XIPC_ESYSTEM_ERR;
    return xipc_encoder_put_raw(result, args, len);
}

/* Procedure 2: GARBAGE_ARGS; 3: SYSTEM_ERR. */
static int garbage(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                   xipc_encoder *result) {
    (void)user; (void)call; (void)args; (void)len; (void)result;
    return XIPC_EGARBAGE_ARGS;
}

static int failing(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                   xipc_encoder *result) {
    (void)user; (void)call; (void)args; (void)len; (void)result;
    return -1000;
}

/* Appends an XDR unsigned int (through put_raw, which every header has). */
static int put_u32(xipc_encoder *e, uint32_t v) {
    const uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return xipc_encoder_put_raw(e, b, 4);
}

/* Procedure 4: the caller's uid, gid count and machine name. */
static int whoami(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                  xipc_encoder *result) {
    (void)user; (void)args; (void)len;
    uint32_t uid = 0, gids[16];
    size_t ngids = 0;
    const char *machine = NULL;
    if (xipc_rpc_call_auth_sys(call, NULL, &machine, &uid, NULL, gids, sizeof gids / sizeof gids[0],
                               &ngids) != 0)
        return put_u32(result, 0xFFFFFFFFu);
    /* Room for fewer group ids than the call carries: refused, nothing written. */
    uint32_t few[1];
    size_t nfew = 99;
    int small = xipc_rpc_call_auth_sys(call, NULL, NULL, NULL, NULL, few, 1, &nfew);
    if (ngids > 1 && (small != XIPC_EMSGSIZE || nfew != 99)) return XIPC_ESYSTEM_ERR;
    /* The message counts group ids, not bytes: "3 elements, at most 1 allowed". */
    if (ngids > 1 && strcmp(xipc_last_error(), "3 elements, at most 1 allowed") != 0)
        return XIPC_ESYSTEM_ERR;
    if (put_u32(result, uid) != 0) return XIPC_ESYSTEM_ERR;
    if (put_u32(result, (uint32_t)ngids) != 0) return XIPC_ESYSTEM_ERR;
    return xipc_encoder_put_string(result, machine);
}

static void exercise(xipc_rpc_client *c) {
    const uint8_t args[8] = {0, 0, 0, 3, 'a', 'b', 'c', 0};
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    CHECK(xipc_rpc_client_ping(c));
    CHECK(xipc_rpc_client_call(c, 1, args, sizeof args, &reply, &reply_len));
    EXPECT(reply_len == sizeof args && memcmp(reply, args, sizeof args) == 0);
    xipc_bytes_free(reply, reply_len);

    /* Results larger than a page are handed out where they were read, behind
     * the reply's header: two held at once, freed in the other order
     * (valgrind checks every byte and the frees). */
    enum { BIG = 6000 };
    uint8_t *big = malloc(BIG), *first = NULL;
    size_t first_len = 0;
    for (int i = 0; i < BIG; i++) big[i] = (uint8_t)(i * 7);
    CHECK(xipc_rpc_client_call(c, 1, big, BIG, &first, &first_len));
    big[0] ^= 0xFF;
    CHECK(xipc_rpc_client_call(c, 1, big, BIG, &reply, &reply_len));
    EXPECT(reply_len == BIG && memcmp(reply, big, BIG) == 0);
    big[0] ^= 0xFF;
    EXPECT(first_len == BIG && memcmp(first, big, BIG) == 0);
    xipc_bytes_free(first, first_len);
    xipc_bytes_free(reply, reply_len);
    free(big);

    EXPECT(xipc_rpc_client_call(c, 2, args, sizeof args, &reply, &reply_len) == XIPC_EGARBAGE_ARGS);
    EXPECT(xipc_rpc_client_call(c, 3, NULL, 0, &reply, &reply_len) == XIPC_ESYSTEM_ERR);
    EXPECT(xipc_rpc_client_call(c, 77, NULL, 0, &reply, &reply_len) == XIPC_EPROC_UNAVAIL);

    /* AUTH_NONE, then AUTH_SYS. */
    CHECK(xipc_rpc_client_call(c, 4, NULL, 0, &reply, &reply_len));
    EXPECT(reply_len == 4 && reply[0] == 0xFF);
    xipc_bytes_free(reply, reply_len);
    const uint32_t gids[3] = {10, 20, 30};
    CHECK(xipc_rpc_client_set_auth_sys(c, 1, "c-host", 4321, 7, gids, 3));
    CHECK(xipc_rpc_client_call(c, 4, NULL, 0, &reply, &reply_len));
    const uint8_t want[] = {0, 0, 0x10, 0xE1, 0, 0, 0, 3, 0, 0, 0, 6, 'c', '-', 'h', 'o', 's', 't', 0, 0};
    EXPECT(reply_len == sizeof want && memcmp(reply, want, sizeof want) == 0);
    xipc_bytes_free(reply, reply_len);
}

/* The client's descriptor is its socket: TCP and UDP connected to the
 * server's port (UDP's own socket is a datagram socket), Unix a stream. */
static void check_fd(const xipc_rpc_client *c, int proto, uint16_t port) {
    int fd = -1;
    CHECK(xipc_rpc_client_fd(c, &fd));
    EXPECT(fd >= 0);
    int type = 0;
    socklen_t type_len = sizeof type;
    EXPECT(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0);
    EXPECT(type == (proto == 1 ? SOCK_DGRAM : SOCK_STREAM));
    if (proto != 2) {
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof peer;
        EXPECT(getpeername(fd, (struct sockaddr *)&peer, &peer_len) == 0);
        EXPECT(peer.sin_family == AF_INET && ntohs(peer.sin_port) == port);
    }
    int ignored = 7;
    EXPECT(xipc_rpc_client_fd(NULL, &ignored) == XIPC_EINVAL && ignored == 7);
    EXPECT(xipc_rpc_client_fd(c, NULL) == XIPC_EINVAL);
}

int main(void) {
    xipc_rpc_server *s = NULL;
    CHECK(xipc_rpc_server_new(&s));
    CHECK(xipc_rpc_server_set_rpcbind_registration(s, false));
    CHECK(xipc_rpc_server_register(s, PROG, 2, 1, echo, &calls_seen));
    CHECK(xipc_rpc_server_register(s, PROG, 2, 2, garbage, NULL));
    CHECK(xipc_rpc_server_register(s, PROG, 2, 3, failing, NULL));
    CHECK(xipc_rpc_server_register(s, PROG, 2, 4, whoami, NULL));
    CHECK(xipc_rpc_server_register(s, PROG, 4, 1, echo, &calls_seen));
    EXPECT(xipc_rpc_server_register(s, PROG, 2, 5, NULL, NULL) == XIPC_EINVAL);

    uint16_t tcp = 0, udp = 0;
    char path[64];
    snprintf(path, sizeof path, "/tmp/xipc-rpc-c-%d.sock", (int)getpid());
    CHECK(xipc_rpc_server_listen_tcp(s, "127.0.0.1", 0, &tcp));
    CHECK(xipc_rpc_server_listen_udp(s, "127.0.0.1", 0, &udp));
    CHECK(xipc_rpc_server_listen_unix(s, path));
    EXPECT(tcp != 0 && udp != 0);
    CHECK(xipc_rpc_server_start(s));

    const char *protos[3] = {"tcp", "udp", "unix"};
    for (int i = 0; i < 3; i++) {
        xipc_rpc_client *c = NULL;
        const char *host = i == 2 ? path : "127.0.0.1";
        uint16_t port = i == 0 ? tcp : udp;
        CHECK(xipc_rpc_client_connect(host, port, PROG, 2, protos[i], &c));
        CHECK(xipc_rpc_client_set_timeout(c, 5000));
        check_fd(c, i, i == 0 ? tcp : udp);
        exercise(c);
        xipc_rpc_client_close(c);

        /* Version 9 is not served: PROG_MISMATCH with the range 2..4. */
        CHECK(xipc_rpc_client_connect(host, port, PROG, 9, protos[i], &c));
        EXPECT(xipc_rpc_client_ping(c) == XIPC_EPROG_MISMATCH);
        uint32_t low = 0, high = 0, stat = 9;
        CHECK(xipc_rpc_last_error_details(&low, &high, &stat));
        EXPECT(low == 2 && high == 4 && stat == 0);
        xipc_rpc_client_close(c);

        CHECK(xipc_rpc_client_connect(host, port, PROG + 1, 1, protos[i], &c));
        EXPECT(xipc_rpc_client_ping(c) == XIPC_EPROG_UNAVAIL);
        xipc_rpc_client_close(c);
    }
    EXPECT(calls_seen == 9); /* three echo calls over each transport */

    /* A bad protocol name and a NULL client are clear errors. */
    xipc_rpc_client *bad = NULL;
    EXPECT(xipc_rpc_client_connect("127.0.0.1", tcp, PROG, 2, "sctp", &bad) == XIPC_EINVAL);
    EXPECT(bad == NULL);
    EXPECT(xipc_rpc_client_ping(NULL) == XIPC_EINVAL);

    CHECK(xipc_rpc_server_stop(s));
    xipc_rpc_server_close(s);
    EXPECT(access(path, F_OK) != 0);

    /* The thread-end function runs once on each server thread as it ends:
     * a pool held to two threads, stopped, ran it twice. */
    int ended = 0;
    CHECK(xipc_rpc_server_new(&s));
    CHECK(xipc_rpc_server_set_rpcbind_registration(s, false));
    CHECK(xipc_rpc_server_set_threads(s, 2, 2));
    CHECK(xipc_rpc_server_set_thread_end(s, thread_ended, &ended));
    CHECK(xipc_rpc_server_listen_tcp(s, "127.0.0.1", 0, &tcp));
    CHECK(xipc_rpc_server_start(s));
    EXPECT(__atomic_load_n(&ended, __ATOMIC_SEQ_CST) == 0);
    CHECK(xipc_rpc_server_stop(s));
    EXPECT(__atomic_load_n(&ended, __ATOMIC_SEQ_CST) == 2);
    xipc_rpc_server_close(s);
    xipc_rpc_client_close(NULL);
    xipc_rpc_server_close(NULL);
    puts("rpc_basic: ok");
    return 0;
}
