/* A libtirpc client of xecho.x (rpcgen stubs).
 * usage: tirpc_client HOST PROTO PORT   (PORT 0: clnt_create via rpcbind)
 * Calls NULL, ADD(40, 2), ECHO of 5000 bytes and COUNT; exits 0 when every
 * result is right. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <rpc/rpc.h>
#include "xecho.h"

static CLIENT *open_client(const char *host, const char *proto, int port) {
    if (port == 0)
        return clnt_create(host, XECHO_PROG, XECHO_VERS, proto);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) return NULL;
    int sock = RPC_ANYSOCK;
    if (strcmp(proto, "udp") == 0) {
        struct timeval wait = {1, 0};
        return clntudp_create(&sin, XECHO_PROG, XECHO_VERS, wait, &sock);
    }
    return clnttcp_create(&sin, XECHO_PROG, XECHO_VERS, &sock, 0, 0);
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s HOST PROTO PORT\n", argv[0]); return 2; }
    CLIENT *c = open_client(argv[1], argv[2], atoi(argv[3]));
    if (!c) { clnt_pcreateerror("tirpc_client"); return 1; }
    struct timeval tv = {5, 0};
    clnt_control(c, CLSET_TIMEOUT, (char *)&tv);

    static char dummy;
    if (clnt_call(c, NULLPROC, (xdrproc_t)xdr_void, NULL, (xdrproc_t)xdr_void, &dummy, tv) != RPC_SUCCESS) {
        clnt_perror(c, "NULL"); return 1;
    }
    xecho_pair p = {40, 2};
    int *sum = xecho_add_1(&p, c);
    if (!sum || *sum != 42) { clnt_perror(c, "ADD"); return 1; }

    xecho_blob in;
    in.xecho_blob_len = 5000;
    in.xecho_blob_val = malloc(5000);
    for (int i = 0; i < 5000; i++) in.xecho_blob_val[i] = (char)(i * 7);
    xecho_blob *out = xecho_echo_1(&in, c);
    if (!out || out->xecho_blob_len != 5000 || memcmp(out->xecho_blob_val, in.xecho_blob_val, 5000) != 0) {
        clnt_perror(c, "ECHO"); return 1;
    }
    u_int *n = xecho_count_1(NULL, c);
    if (!n || *n < 1) { clnt_perror(c, "COUNT"); return 1; }
    printf("tirpc_client %s: ok (count %u)\n", argv[2], *n);
    clnt_destroy(c);
    return 0;
}
