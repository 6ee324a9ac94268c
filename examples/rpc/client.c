/* Calls the ADD/ECHO service (server.c, server.py or main.rs), found
 * through rpcbind unless PORT is given.
 *
 *   cc -o client client.c $(pkg-config --cflags --libs xipc)
 *   ./client [HOST] [tcp|udp] [PORT]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xipc.h>

#define PROG 0x20005A5Au
#define VERS 1u

static int fail(const char *what, int rc) {
    fprintf(stderr, "client: %s: %s (%s)\n", what, xipc_strerror(rc), xipc_last_error());
    return 1;
}

/* Calls `proc` with the arguments `args` has encoded, then frees it. */
static int call(xipc_rpc_client *c, uint32_t proc, xipc_encoder *args, uint8_t **reply, size_t *len) {
    const uint8_t *data;
    size_t n;
    int rc = xipc_encoder_data(args, &data, &n);
    if (rc == XIPC_OK) rc = xipc_rpc_client_call(c, proc, data, n, reply, len);
    xipc_encoder_free(args);
    return rc;
}

int main(int argc, char **argv) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    const char *proto = argc > 2 ? argv[2] : "tcp";
    uint16_t port = argc > 3 ? (uint16_t)atoi(argv[3]) : 0; /* 0: ask rpcbind */
    const char *text = "hello, ONC RPC";
    xipc_rpc_client *c = NULL;
    xipc_encoder *args = NULL;
    xipc_decoder *dec = NULL;
    uint8_t *reply = NULL;
    size_t len = 0;
    int32_t total = 0;
    int rc;

    if ((rc = xipc_rpc_client_connect(host, port, PROG, VERS, proto, &c)) != XIPC_OK)
        return fail("connect", rc);
    xipc_rpc_client_set_timeout(c, 5000);
    xipc_rpc_client_set_auth_sys(c, 0, NULL, 0, 0, NULL, 0); /* NULL name: this process's uid, gid, host */
    if ((rc = xipc_rpc_client_ping(c)) != XIPC_OK) goto out;

    /* ADD(40, 2) */
    if ((rc = xipc_encoder_new(&args)) != XIPC_OK || (rc = xipc_encoder_put_int(args, 40)) != XIPC_OK ||
        (rc = xipc_encoder_put_int(args, 2)) != XIPC_OK || (rc = call(c, 1, args, &reply, &len)) != XIPC_OK)
        goto out;
    if ((rc = xipc_decoder_new(reply, len, NULL, &dec)) == XIPC_OK &&
        (rc = xipc_decoder_get_int(dec, &total)) == XIPC_OK)
        rc = xipc_decoder_finish(dec);
    xipc_decoder_free(dec);
    xipc_bytes_free(reply, len);
    if (rc != XIPC_OK) goto out;
    printf("40 + 2 = %d\n", total);

    /* ECHO(opaque<>) */
    char echoed[64];
    size_t echoed_len = 0;
    if ((rc = xipc_encoder_new(&args)) != XIPC_OK ||
        (rc = xipc_encoder_put_opaque(args, (const uint8_t *)text, strlen(text))) != XIPC_OK ||
        (rc = call(c, 2, args, &reply, &len)) != XIPC_OK)
        goto out;
    if ((rc = xipc_decoder_new(reply, len, NULL, &dec)) == XIPC_OK &&
        (rc = xipc_decoder_get_opaque(dec, sizeof echoed, (uint8_t *)echoed, sizeof echoed,
                                      &echoed_len)) == XIPC_OK)
        rc = xipc_decoder_finish(dec);
    xipc_decoder_free(dec);
    xipc_bytes_free(reply, len);
    if (rc != XIPC_OK) goto out;
    printf("echo: %.*s\n", (int)echoed_len, echoed);

    /* A procedure the service does not have. */
    rc = xipc_rpc_client_call(c, 9, NULL, 0, &reply, &len);
    if (rc == XIPC_EPROC_UNAVAIL) {
        printf("procedure 9: unavailable (PROC_UNAVAIL)\n");
        rc = XIPC_OK;
    } else if (rc == XIPC_OK) {
        xipc_bytes_free(reply, len);
        rc = XIPC_EPROTO;
    }
out:
    xipc_rpc_client_close(c);
    return rc == XIPC_OK ? 0 : fail("call", rc);
}
