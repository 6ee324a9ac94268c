/* xipc client side of benches/rpc.sh.
 * usage: bench_xipc add|shared|echo PROTO PORT CALLS THREADS
 * add: CALLS ADD calls per thread (one client per thread), prints calls/s;
 * shared: the same, all threads calling through one client;
 * echo: CALLS 64 KiB ECHO calls, prints MiB/s (both directions counted once);
 * connect: CALLS connections made and closed, prints microseconds each.
 * With XIPC_BENCH_TLS set to a directory of tests/tls/make_certs.sh, every
 * connection is RPC-with-TLS (the AUTH_TLS probe, then TLS 1.3), checked
 * against its ca.pem. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xipc.h"

#define PROG 0x20005a5au
#define BLOB (64 * 1024)

static const char *proto;
static uint16_t port;
static long calls;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static xipc_tls_config *tls;

static xipc_rpc_client *connect_client(void) {
    xipc_rpc_client *c = NULL;
    int rc = tls ? xipc_rpc_client_connect_tls("127.0.0.1", port, PROG, 1, proto, tls, &c)
                 : xipc_rpc_client_connect("127.0.0.1", port, PROG, 1, proto, &c);
    if (rc != 0) {
        fprintf(stderr, "bench_xipc: %s\n", xipc_last_error());
        exit(1);
    }
    return c;
}

static void *adder(void *arg) {
    xipc_rpc_client *c = arg;
    const uint8_t pair[8] = {0, 0, 0, 40, 0, 0, 0, 2};
    for (long i = 0; i < calls; i++) {
        uint8_t *out;
        size_t len;
        if (xipc_rpc_client_call(c, 1, pair, 8, &out, &len) != 0 || len != 4 || out[3] != 42) {
            fprintf(stderr, "bench_xipc: ADD failed: %s\n", xipc_last_error());
            exit(1);
        }
        xipc_bytes_free(out, len);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: %s add|shared|echo PROTO PORT CALLS THREADS\n", argv[0]); return 2; }
    proto = argv[2];
    port = (uint16_t)atoi(argv[3]);
    calls = atol(argv[4]);
    int threads = atoi(argv[5]);
    int shared = strcmp(argv[1], "shared") == 0;
    const char *dir = getenv("XIPC_BENCH_TLS");
    if (dir) {
        static char ca[512];
        snprintf(ca, sizeof ca, "%s/ca.pem", dir);
        xipc_tls_options o;
        memset(&o, 0, sizeof o);
        o.ca_file = ca;
        if (xipc_tls_config_new(&o, &tls) != 0) {
            fprintf(stderr, "bench_xipc: %s\n", xipc_last_error());
            return 1;
        }
    }
    if (strcmp(argv[1], "connect") == 0) {
        double t0 = now();
        for (long i = 0; i < calls; i++) xipc_rpc_client_close(connect_client());
        printf("%.1f\n", (now() - t0) / calls * 1e6);
        return 0;
    }
    if (shared || strcmp(argv[1], "add") == 0) {
        pthread_t t[64];
        xipc_rpc_client *c[64];
        for (int i = 0; i < threads; i++) c[i] = shared && i > 0 ? c[0] : connect_client();
        double t0 = now();
        for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, adder, c[i]);
        for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
        double dt = now() - t0;
        printf("%.0f\n", calls * threads / dt);
        for (int i = 0; i < (shared ? 1 : threads); i++) xipc_rpc_client_close(c[i]);
        return 0;
    }
    xipc_rpc_client *c = connect_client();
    uint8_t *blob = calloc(1, 4 + BLOB);
    blob[1] = 1; /* length 65536 */
    double t0 = now();
    for (long i = 0; i < calls; i++) {
        uint8_t *out;
        size_t len;
        if (xipc_rpc_client_call(c, 2, blob, 4 + BLOB, &out, &len) != 0 || len != 4 + BLOB) {
            fprintf(stderr, "bench_xipc: ECHO failed: %s\n", xipc_last_error());
            return 1;
        }
        xipc_bytes_free(out, len);
    }
    printf("%.1f\n", calls * (double)BLOB / (now() - t0) / (1 << 20));
    xipc_rpc_client_close(c);
    return 0;
}
