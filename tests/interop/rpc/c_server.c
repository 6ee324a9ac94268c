/* An xipc server of xecho.x in C. Prints "tcp PORT udp PORT" and serves
 * until SIGTERM or SIGINT. argv[1] "register": register with rpcbind;
 * "replace": register, taking over a running server's registration.
 * argv[2]: the address to listen on (default 127.0.0.1).
 * With XIPC_BENCH_TLS set to a directory of tests/tls/make_certs.sh, the
 * TCP listener speaks RPC-with-TLS (server.pem and server.key). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xipc.h"

#define PROG 0x20005a5au

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int put_u32(xipc_encoder *e, uint32_t v) {
    const uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return xipc_encoder_put_raw(e, b, 4);
}

static int add(void *u, const xipc_rpc_call *c, const uint8_t *a, size_t n, xipc_encoder *r) {
    (void)u; (void)c;
    if (n != 8) return XIPC_EGARBAGE_ARGS;
    return put_u32(r, be32(a) + be32(a + 4));
}

static int echo(void *u, const xipc_rpc_call *c, const uint8_t *a, size_t n, xipc_encoder *r) {
    (void)u; (void)c;
    if (n < 4) return XIPC_EGARBAGE_ARGS;
    uint32_t len = be32(a);
    if ((size_t)len + 4 + ((4 - (len & 3)) & 3) != n) return XIPC_EGARBAGE_ARGS;
    return xipc_encoder_put_raw(r, a, n);
}

static int count(void *u, const xipc_rpc_call *c, const uint8_t *a, size_t n, xipc_encoder *r) {
    (void)c; (void)a; (void)n;
    unsigned *counter = u;
    return put_u32(r, __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST));
}

static int nap(void *u, const xipc_rpc_call *c, const uint8_t *a, size_t n, xipc_encoder *r) {
    (void)u; (void)c; (void)r;
    if (n != 4) return XIPC_EGARBAGE_ARGS;
    usleep(be32(a) * 1000);
    return 0;
}

static int listen_tcp(xipc_rpc_server *s, const char *host, uint16_t *port) {
    const char *dir = getenv("XIPC_BENCH_TLS");
    if (!dir) return xipc_rpc_server_listen_tcp(s, host, 0, port);
    char cert[512], key[512];
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    xipc_tls_options o;
    memset(&o, 0, sizeof o);
    o.cert_file = cert;
    o.key_file = key;
    xipc_tls_config *tls = NULL;
    int rc = xipc_tls_config_new(&o, &tls);
    if (rc == 0) rc = xipc_rpc_server_listen_tcp_tls(s, host, 0, tls, port);
    xipc_tls_config_free(tls);
    return rc;
}

int main(int argc, char **argv) {
    static unsigned counter;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* server threads inherit the mask */

    const bool replace = argc > 1 && strcmp(argv[1], "replace") == 0;
    const bool register_it = replace || (argc > 1 && strcmp(argv[1], "register") == 0);
    xipc_rpc_server *s = NULL;
    uint16_t tcp = 0, udp = 0;
    if (xipc_rpc_server_new(&s) != 0 ||
        xipc_rpc_server_set_rpcbind_registration(s, register_it) != 0 ||
        xipc_rpc_server_set_rpcbind_replace(s, replace) != 0 ||
        xipc_rpc_server_register(s, PROG, 1, 1, add, NULL) != 0 ||
        xipc_rpc_server_register(s, PROG, 1, 2, echo, NULL) != 0 ||
        xipc_rpc_server_register(s, PROG, 1, 3, count, &counter) != 0 ||
        xipc_rpc_server_register(s, PROG, 1, 4, nap, NULL) != 0 ||
        listen_tcp(s, argc > 2 ? argv[2] : "127.0.0.1", &tcp) != 0 ||
        xipc_rpc_server_listen_udp(s, argc > 2 ? argv[2] : "127.0.0.1", 0, &udp) != 0 ||
        xipc_rpc_server_start(s) != 0) {
        fprintf(stderr, "c_server: %s\n", xipc_last_error());
        xipc_rpc_server_close(s);
        return 1;
    }
    printf("tcp %u udp %u\n", tcp, udp);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    xipc_rpc_server_stop(s);
    xipc_rpc_server_close(s);
    return 0;
}
