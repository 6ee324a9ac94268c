/* A libtirpc server of xecho.x (rpcgen stubs): prints "tcp PORT udp PORT",
 * then serves. With "register" as argv[1] it also registers with rpcbind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rpc/rpc.h>
#include <rpc/pmap_clnt.h>
#include "xecho.h"

void xecho_prog_1(struct svc_req *rqstp, SVCXPRT *transp);

static unsigned int counter;

int *xecho_add_1_svc(xecho_pair *p, struct svc_req *req) {
    static int r;
    (void)req;
    r = p->a + p->b;
    return &r;
}

xecho_blob *xecho_echo_1_svc(xecho_blob *b, struct svc_req *req) {
    static xecho_blob r;
    (void)req;
    free(r.xecho_blob_val);
    r.xecho_blob_len = b->xecho_blob_len;
    r.xecho_blob_val = malloc(b->xecho_blob_len + 1);
    memcpy(r.xecho_blob_val, b->xecho_blob_val, b->xecho_blob_len);
    return &r;
}

u_int *xecho_count_1_svc(void *v, struct svc_req *req) {
    (void)v; (void)req;
    counter++;
    return &counter;
}

void *xecho_sleep_1_svc(u_int *ms, struct svc_req *req) {
    static char dummy;
    (void)req;
    usleep(*ms * 1000);
    return &dummy;
}

static unsigned short port_of(SVCXPRT *x) {
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    getsockname(x->xp_fd, (struct sockaddr *)&sin, &len);
    return ntohs(sin.sin_port);
}

int main(int argc, char **argv) {
    int reg = argc > 1 && strcmp(argv[1], "register") == 0;
    SVCXPRT *tcp = svctcp_create(RPC_ANYSOCK, 0, 0);
    SVCXPRT *udp = svcudp_create(RPC_ANYSOCK);
    if (!tcp || !udp) { fprintf(stderr, "cannot create transports\n"); return 1; }
    if (reg) pmap_unset(XECHO_PROG, XECHO_VERS);
    if (!svc_register(tcp, XECHO_PROG, XECHO_VERS, xecho_prog_1, reg ? IPPROTO_TCP : 0) ||
        !svc_register(udp, XECHO_PROG, XECHO_VERS, xecho_prog_1, reg ? IPPROTO_UDP : 0)) {
        fprintf(stderr, "cannot register\n");
        return 1;
    }
    printf("tcp %u udp %u\n", port_of(tcp), port_of(udp));
    fflush(stdout);
    svc_run();
    return 1;
}
