/* An xipc client of xecho.x in C.
 * usage: c_client HOST PROTO PORT   (PORT 0: look up through rpcbind) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc.h"

#define PROG 0x20005a5au

static void fail(const char *what, int rc) {
    fprintf(stderr, "c_client: %s: %d %s\n", what, rc, xipc_last_error());
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s HOST PROTO PORT\n", argv[0]); return 2; }
    xipc_rpc_client *c = NULL;
    int rc = xipc_rpc_client_connect(argv[1], (uint16_t)atoi(argv[3]), PROG, 1, argv[2], &c);
    if (rc) fail("connect", rc);
    xipc_rpc_client_set_timeout(c, 5000);
    if ((rc = xipc_rpc_client_ping(c))) fail("ping", rc);

    const uint8_t pair[8] = {0, 0, 0, 40, 0, 0, 0, 2};
    uint8_t *out = NULL;
    size_t out_len = 0;
    if ((rc = xipc_rpc_client_call(c, 1, pair, 8, &out, &out_len))) fail("ADD", rc);
    if (out_len != 4 || out[3] != 42 || out[0] || out[1] || out[2]) fail("ADD result", -1);
    xipc_bytes_free(out, out_len);

    size_t n = 4 + 5000;
    uint8_t *blob = malloc(n);
    blob[0] = 0; blob[1] = 0; blob[2] = 5000 >> 8; blob[3] = 5000 & 0xff;
    for (int i = 0; i < 5000; i++) blob[4 + i] = (uint8_t)(i * 7);
    if ((rc = xipc_rpc_client_call(c, 2, blob, n, &out, &out_len))) fail("ECHO", rc);
    if (out_len != n || memcmp(out, blob, n) != 0) fail("ECHO result", -1);
    xipc_bytes_free(out, out_len);
    free(blob);

    if ((rc = xipc_rpc_client_call(c, 3, NULL, 0, &out, &out_len))) fail("COUNT", rc);
    unsigned count = (unsigned)out[0] << 24 | (unsigned)out[1] << 16 | (unsigned)out[2] << 8 | out[3];
    xipc_bytes_free(out, out_len);
    if ((rc = xipc_rpc_client_call(c, 9, NULL, 0, &out, &out_len)) != XIPC_EPROC_UNAVAIL)
        fail("procedure 9 should be unavailable", rc);
    xipc_rpc_client_close(c);
    printf("c_client %s: ok (count %u)\n", argv[2], count);
    return 0;
}
