/* The TCP plumbing the raw floors of benches/rpc.sh share: a listener on
 * the loopback address that says its port as the RPC servers do, a thread
 * per accepted connection, and a client connection. Each gives up on the
 * first failure, saying why: these are benchmark tools. */
#ifndef XIPC_BENCH_LOOPBACK_H
#define XIPC_BENCH_LOOPBACK_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* Listens on 127.0.0.1, port chosen by the kernel; prints "tcp PORT udp 0"
 * (what benches/rpc.sh reads from a server) and returns the listener. */
static int loopback_listen(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof sin) || listen(l, 64) ||
        getsockname(l, (struct sockaddr *)&sin, &len)) {
        perror("listen on 127.0.0.1");
        exit(1);
    }
    printf("tcp %u udp 0\n", ntohs(sin.sin_port));
    fflush(stdout);
    return l;
}

/* Runs serve(connection) on a thread of its own for each connection `l`
 * accepts, for ever. */
static int loopback_serve_threads(int l, void *(*serve)(void *)) {
    for (;;) {
        pthread_t t;
        int c = accept(l, NULL, NULL);
        if (c < 0 || pthread_create(&t, NULL, serve, (void *)(long)c)) return 1;
        pthread_detach(t);
    }
}

/* A connection to 127.0.0.1:port, Nagle off. */
static int loopback_dial(int port) {
    int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (s < 0 || connect(s, (struct sockaddr *)&sin, sizeof sin)) {
        perror("connect to 127.0.0.1");
        exit(1);
    }
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return s;
}

#endif
