/* An upper-casing echo server over TCP, and its client.
 *   ./tcp server 7000
 *   ./tcp client localhost 7000 hello world
 * Build: cc -o tcp tcp.c $(pkg-config --cflags --libs xipc) */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xipc.h>

static int fail(void) {
    fprintf(stderr, "tcp: %s\n", xipc_last_error());
    return 1;
}

int main(int argc, char **argv) {
    uint8_t buf[4096];
    size_t len;
    if (argc >= 2 && strcmp(argv[1], "server") == 0) {
        xipc_listener *l = NULL;
        uint16_t port = 0;
        if (xipc_tcp_listen("::", argc > 2 ? (uint16_t)atoi(argv[2]) : 0, &l) != XIPC_OK ||
            xipc_listener_port(l, &port) != XIPC_OK)
            return fail();
        printf("listening on port %u\n", port);
        fflush(stdout); /* whoever reads our output learns the port now */
        for (;;) {
            xipc_stream *c = NULL;
            if (xipc_listener_accept(l, XIPC_WAIT_FOREVER, &c) != XIPC_OK) return fail();
            while (xipc_stream_receive(c, buf, sizeof buf, &len) == XIPC_OK) {
                for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)toupper(buf[i]);
                xipc_stream_send(c, buf, len);
            }
            xipc_stream_close(c);
        }
    }
    if (argc >= 4 && strcmp(argv[1], "client") == 0) {
        xipc_stream *c = NULL;
        if (xipc_tcp_connect(argv[2], (uint16_t)atoi(argv[3]), 5000, &c) != XIPC_OK) return fail();
        xipc_stream_set_read_timeout(c, 5000);
        for (int i = 4; i < argc; i++) {
            if (xipc_stream_send(c, (const uint8_t *)argv[i], strlen(argv[i])) != XIPC_OK ||
                xipc_stream_receive(c, buf, sizeof buf, &len) != XIPC_OK)
                return fail();
            printf("%s -> %.*s\n", argv[i], (int)len, (const char *)buf);
        }
        xipc_stream_close(c);
        return 0;
    }
    fprintf(stderr, "usage: tcp server [PORT] | tcp client HOST PORT WORDS...\n");
    return 2;
}
