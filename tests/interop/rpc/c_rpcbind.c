/* An embedded rpcbind in C (xipc_rpcbind_server), as a program embeds one:
 * on the addresses given (loopback is added), port 0, no Unix socket.
 * argv[1] "remote": forward calls for other machines too
 * (xipc_rpcbind_server_set_remote_calls), "local": only for this one;
 * argv[2...]: the addresses. Prints "port PORT" and serves until SIGTERM
 * or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "xipc.h"

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "remote") != 0 && strcmp(argv[1], "local") != 0)) {
        fprintf(stderr, "usage: c_rpcbind remote|local ADDRESS...\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* server threads inherit the mask */

    xipc_rpcbind_server *s = NULL;
    int rc = xipc_rpcbind_server_new(&s);
    for (int i = 2; rc == 0 && i < argc; i++) rc = xipc_rpcbind_server_listen(s, argv[i]);
    if (rc == 0) rc = xipc_rpcbind_server_set_port(s, 0);
    if (rc == 0) rc = xipc_rpcbind_server_set_remote_calls(s, strcmp(argv[1], "remote") == 0);
    if (rc == 0) rc = xipc_rpcbind_server_set_local_socket(s, NULL);
    if (rc == 0) rc = xipc_rpcbind_server_start(s);
    uint16_t port = 0;
    if (rc == 0) rc = xipc_rpcbind_server_port(s, &port);
    if (rc != 0) {
        fprintf(stderr, "c_rpcbind: %s: %s\n", xipc_strerror(rc), xipc_last_error());
        xipc_rpcbind_server_close(s);
        return 1;
    }
    printf("port %u\n", port);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    return xipc_rpcbind_server_close(s) == 0 ? 0 : 1;
}
