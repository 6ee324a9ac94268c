/* libtirpc's rpcbind client functions against the rpcbind on this machine:
 * pmap_rmtcall (portmap CALLIT) and rpcb_rmtcall (rpcbind CALLIT) forward
 * XECHO_ADD(40, 2) to the registered UDP service; rpcb_gettime,
 * rpcb_uaddr2taddr and rpcb_taddr2uaddr convert through it.
 * usage: tirpc_rpcbind UDP_PORT   (the service's port, to check answers) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <rpc/rpc.h>
#include <rpc/pmap_clnt.h>
#include "xecho.h"

#define FAIL(...) do { fprintf(stderr, "tirpc_rpcbind: " __VA_ARGS__); fputc('\n', stderr); return 1; } while (0)

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s UDP_PORT\n", argv[0]); return 2; }
    unsigned long want_port = strtoul(argv[1], NULL, 10);
    struct timeval tv = {5, 0};
    xecho_pair p = {40, 2};
    int sum = 0;

    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    u_long port = 0;
    enum clnt_stat st = pmap_rmtcall(&sin, XECHO_PROG, XECHO_VERS, XECHO_ADD,
                                     (xdrproc_t)xdr_xecho_pair, (caddr_t)&p,
                                     (xdrproc_t)xdr_int, (caddr_t)&sum, tv, &port);
    if (st != RPC_SUCCESS) FAIL("pmap_rmtcall: %s", clnt_sperrno(st));
    if (sum != 42 || port != want_port) FAIL("pmap_rmtcall: sum %d port %lu", sum, port);

    struct netconfig *udp = getnetconfigent("udp");
    if (!udp) FAIL("no udp netconfig");
    char taddr_buf[64];
    struct netbuf addr = {sizeof taddr_buf, 0, taddr_buf};
    sum = 0;
    st = rpcb_rmtcall(udp, "127.0.0.1", XECHO_PROG, XECHO_VERS, XECHO_ADD,
                      (xdrproc_t)xdr_xecho_pair, (caddr_t)&p, (xdrproc_t)xdr_int, (caddr_t)&sum,
                      tv, &addr);
    if (st != RPC_SUCCESS) FAIL("rpcb_rmtcall: %s", clnt_sperrno(st));
    struct sockaddr_in *got = (struct sockaddr_in *)addr.buf;
    if (sum != 42 || addr.len != sizeof(struct sockaddr_in) || ntohs(got->sin_port) != want_port)
        FAIL("rpcb_rmtcall: sum %d, address of %u bytes, port %u", sum, addr.len,
             ntohs(got->sin_port));

    time_t t = 0, now = time(NULL);
    if (!rpcb_gettime("127.0.0.1", &t)) FAIL("rpcb_gettime failed");
    if (t < now - 5 || t > now + 5) FAIL("rpcb_gettime: %ld, now %ld", (long)t, (long)now);

    struct netbuf *taddr = rpcb_uaddr2taddr(udp, "127.0.0.1.8.1");
    if (!taddr) FAIL("rpcb_uaddr2taddr failed");
    struct sockaddr_in *a = (struct sockaddr_in *)taddr->buf;
    if (taddr->len != sizeof *a || a->sin_family != AF_INET || ntohs(a->sin_port) != 2049 ||
        a->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
        FAIL("rpcb_uaddr2taddr: wrong address (%u bytes)", taddr->len);
    char *uaddr = rpcb_taddr2uaddr(udp, taddr);
    if (!uaddr || strcmp(uaddr, "127.0.0.1.8.1") != 0)
        FAIL("rpcb_taddr2uaddr: %s", uaddr ? uaddr : "(null)");
    free(uaddr);
    free(taddr->buf);
    free(taddr);
    freenetconfigent(udp);
    puts("tirpc_rpcbind: ok (pmap_rmtcall, rpcb_rmtcall, rpcb_gettime, rpcb_uaddr2taddr, rpcb_taddr2uaddr)");
    return 0;
}
