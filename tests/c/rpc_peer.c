/* The kernel's peer credentials (SO_PEERCRED) reach a C RPC handler: over a
 * Unix socket the caller's pid, uid and gid; over TCP and UDP none
 * (XIPC_ENOENT). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#define PROG 0x20005679u

static int put_u32(xipc_encoder *e, uint32_t v) {
    const uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return xipc_encoder_put_raw(e, b, 4);
}

static uint32_t get_u32(const uint8_t *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Procedure 1: the status of xipc_rpc_call_peer_credentials (and of it with
 * a NULL output), then pid, uid and gid (all 0xFFFFFFFF when there are none). */
static int who(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
               xipc_encoder *result) {
    (void)user; (void)args; (void)len;
    xipc_peer_credentials cred = {-1, 0xFFFFFFFFu, 0xFFFFFFFFu};
    int rc = xipc_rpc_call_peer_credentials(call, &cred);
    int rc_null = xipc_rpc_call_peer_credentials(call, NULL);
    if (put_u32(result, (uint32_t)rc) || put_u32(result, (uint32_t)rc_null) ||
        put_u32(result, (uint32_t)cred.pid) || put_u32(result, cred.uid) ||
        put_u32(result, cred.gid))
        return XIPC_ESYSTEM_ERR;
    return 0;
}

/* Calls procedure 1 through `c`; returns its five values. */
static void ask(xipc_rpc_client *c, uint32_t out[5]) {
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    CHECK(xipc_rpc_client_call(c, 1, NULL, 0, &reply, &reply_len));
    EXPECT(reply_len == 20);
    for (int i = 0; i < 5; i++) out[i] = get_u32(reply + 4 * i);
    xipc_bytes_free(reply, reply_len);
}

int main(void) {
    char path[96];
    snprintf(path, sizeof path, "/tmp/xipc-rpc-peer-%d.sock", (int)getpid());
    unlink(path);

    xipc_rpc_server *s = NULL;
    CHECK(xipc_rpc_server_new(&s));
    CHECK(xipc_rpc_server_set_rpcbind_registration(s, false));
    CHECK(xipc_rpc_server_register(s, PROG, 1, 1, who, NULL));
    uint16_t tcp = 0, udp = 0;
    CHECK(xipc_rpc_server_listen_tcp(s, "127.0.0.1", 0, &tcp));
    CHECK(xipc_rpc_server_listen_udp(s, "127.0.0.1", 0, &udp));
    CHECK(xipc_rpc_server_listen_unix(s, path));
    CHECK(xipc_rpc_server_start(s));

    uint32_t v[5];
    xipc_rpc_client *c = NULL;
    CHECK(xipc_rpc_client_connect(path, 0, PROG, 1, "unix", &c));
    CHECK(xipc_rpc_client_set_timeout(c, 10000));
    ask(c, v);
    EXPECT(v[0] == 0);
    EXPECT((int)v[1] == XIPC_EINVAL);
    EXPECT((int32_t)v[2] == (int32_t)getpid());
    EXPECT(v[3] == (uint32_t)geteuid());
    EXPECT(v[4] == (uint32_t)getegid());
    /* Read once at accept: a second call on the connection sees the same. */
    ask(c, v);
    EXPECT(v[0] == 0 && (int32_t)v[2] == (int32_t)getpid());
    xipc_rpc_client_close(c);

    const struct { const char *proto; uint16_t port; } nets[] = {{"tcp", tcp}, {"udp", udp}};
    for (size_t i = 0; i < 2; i++) {
        CHECK(xipc_rpc_client_connect("127.0.0.1", nets[i].port, PROG, 1, nets[i].proto, &c));
        CHECK(xipc_rpc_client_set_timeout(c, 10000));
        ask(c, v);
        EXPECT((int)v[0] == XIPC_ENOENT);
        EXPECT((int)v[1] == XIPC_EINVAL);
        EXPECT(v[2] == 0xFFFFFFFFu && v[3] == 0xFFFFFFFFu && v[4] == 0xFFFFFFFFu);
        xipc_rpc_client_close(c);
    }

    CHECK(xipc_rpc_server_stop(s));
    xipc_rpc_server_close(s);
    EXPECT(access(path, F_OK) != 0); /* removed on stop */
    puts("rpc_peer: ok");
    return 0;
}
