/* A small ONC RPC service in C: ADD two ints, and ECHO bytes (the same
 * service as server.py and main.rs). It registers with rpcbind on this
 * machine when one runs (`xipc rpcbind` is one), so clients find it by
 * program number, and unregisters when SIGTERM or SIGINT stops it.
 *
 *   cc -o server server.c $(pkg-config --cflags --libs xipc) && ./server
 */
#define _POSIX_C_SOURCE 200809L /* sigwait, pthread_sigmask */
#include <signal.h>
#include <stdio.h>

#include <xipc.h>

#define PROG 0x20005A5Au
#define VERS 1u

static int add(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
               xipc_encoder *result) {
    (void)user, (void)call;
    xipc_decoder *dec = NULL;
    int32_t a, b;
    int rc = xipc_decoder_new(args, len, NULL, &dec);
    if (rc == XIPC_OK && (rc = xipc_decoder_get_int(dec, &a)) == XIPC_OK &&
        (rc = xipc_decoder_get_int(dec, &b)) == XIPC_OK)
        rc = xipc_decoder_finish(dec);
    xipc_decoder_free(dec);
    if (rc != XIPC_OK) return XIPC_EGARBAGE_ARGS;
    return xipc_encoder_put_int(result, (int32_t)((uint32_t)a + (uint32_t)b)); /* wraps */
}

static int echo(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                xipc_encoder *result) {
    (void)user;
    xipc_decoder *dec = NULL;
    const uint8_t *data = NULL;
    size_t n = 0;
    const char *who = "anonymous";
    int rc = xipc_decoder_new(args, len, NULL, &dec);
    if (rc == XIPC_OK && (rc = xipc_decoder_get_opaque_ref(dec, UINT32_MAX, &data, &n)) == XIPC_OK &&
        (rc = xipc_decoder_finish(dec)) == XIPC_OK)
        rc = xipc_encoder_put_opaque(result, data, n); /* opaque<> in, the same opaque<> out */
    xipc_decoder_free(dec);
    if (rc != XIPC_OK) return XIPC_EGARBAGE_ARGS;
    xipc_rpc_call_auth_sys(call, NULL, &who, NULL, NULL, NULL, 0, NULL); /* stays "anonymous" for AUTH_NONE */
    printf("ECHO of %zu bytes from %s (xid 0x%x)\n", n, who, xipc_rpc_call_xid(call));
    fflush(stdout);
    return XIPC_OK;
}

int main(void) {
    /* Block the stop signals before the server's threads start, so they
     * inherit the mask and the signals wait for sigwait below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    xipc_rpc_server *server = NULL;
    uint16_t tcp = 0, udp = 0;
    if (xipc_rpc_server_new(&server) != XIPC_OK ||
        xipc_rpc_server_register(server, PROG, VERS, 1, add, NULL) != XIPC_OK ||
        xipc_rpc_server_register(server, PROG, VERS, 2, echo, NULL) != XIPC_OK ||
        xipc_rpc_server_listen_tcp(server, "0.0.0.0", 0, &tcp) != XIPC_OK ||
        xipc_rpc_server_listen_udp(server, "0.0.0.0", 0, &udp) != XIPC_OK ||
        xipc_rpc_server_start(server) != XIPC_OK) { /* registers with rpcbind */
        fprintf(stderr, "server: %s\n", xipc_last_error());
        xipc_rpc_server_close(server);
        return 1;
    }
    printf("TCP port %u UDP port %u\n", tcp, udp);
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    xipc_rpc_server_stop(server); /* unregisters, lets calls in progress finish */
    xipc_rpc_server_close(server);
    return 0;
}
