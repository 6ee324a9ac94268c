/* libtirpc (rpcgen stubs) client side of benches/rpc.sh; the same usage
 * and output as bench_xipc.c. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <rpc/rpc.h>
#include "xecho.h"

#define BLOB (64 * 1024)

static const char *proto;
static int port;
static long calls;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static CLIENT *connect_client(void) {
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    int sock = RPC_ANYSOCK;
    CLIENT *c;
    if (strcmp(proto, "udp") == 0) {
        struct timeval wait = {1, 0};
        c = clntudp_bufcreate(&sin, XECHO_PROG, XECHO_VERS, wait, &sock, 8800, 8800);
    } else {
        c = clnttcp_create(&sin, XECHO_PROG, XECHO_VERS, &sock, 0, 0);
    }
    if (!c) { clnt_pcreateerror("bench_tirpc"); exit(1); }
    return c;
}

static void *adder(void *arg) {
    CLIENT *c = arg;
    xecho_pair p = {40, 2};
    struct timeval tv = {25, 0};
    /* clnt_call with a result on this thread's stack: rpcgen's xecho_add_1
     * returns a static and is not thread-safe. */
    for (long i = 0; i < calls; i++) {
        int r = 0;
        if (clnt_call(c, XECHO_ADD, (xdrproc_t)xdr_xecho_pair, (char *)&p,
                      (xdrproc_t)xdr_int, (char *)&r, tv) != RPC_SUCCESS || r != 42) {
            clnt_perror(c, "ADD");
            exit(1);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: %s add|shared|echo PROTO PORT CALLS THREADS\n", argv[0]); return 2; }
    proto = argv[2];
    port = atoi(argv[3]);
    calls = atol(argv[4]);
    int threads = atoi(argv[5]);
    int shared = strcmp(argv[1], "shared") == 0;
    if (shared || strcmp(argv[1], "add") == 0) {
        pthread_t t[64];
        CLIENT *c[64];
        for (int i = 0; i < threads; i++) c[i] = shared && i > 0 ? c[0] : connect_client();
        double t0 = now();
        for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, adder, c[i]);
        for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
        printf("%.0f\n", calls * threads / (now() - t0));
        return 0;
    }
    CLIENT *c = connect_client();
    xecho_blob in;
    in.xecho_blob_len = BLOB;
    in.xecho_blob_val = calloc(1, BLOB);
    double t0 = now();
    for (long i = 0; i < calls; i++) {
        xecho_blob out = {0, NULL};
        struct timeval tv = {25, 0};
        if (clnt_call(c, XECHO_ECHO, (xdrproc_t)xdr_xecho_blob, (char *)&in,
                      (xdrproc_t)xdr_xecho_blob, (char *)&out, tv) != RPC_SUCCESS ||
            out.xecho_blob_len != BLOB) {
            clnt_perror(c, "ECHO");
            return 1;
        }
        xdr_free((xdrproc_t)xdr_xecho_blob, (char *)&out);
    }
    printf("%.1f\n", calls * (double)BLOB / (now() - t0) / (1 << 20));
    return 0;
}
