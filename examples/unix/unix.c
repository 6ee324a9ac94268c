/* A Unix-socket server that tells each client who it is (from the kernel's
 * peer credentials), and its client.
 *   ./unix server /tmp/demo.sock
 *   ./unix client /tmp/demo.sock
 * Build: cc -o unix unix.c $(pkg-config --cflags --libs xipc) */
#include <stdio.h>
#include <string.h>

#include <xipc.h>

static int fail(void) {
    fprintf(stderr, "unix: %s\n", xipc_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "server") == 0) {
        xipc_listener *l = NULL;
        if (xipc_unix_listen(argv[2], 0600, &l) != XIPC_OK) return fail();
        printf("listening on %s\n", argv[2]);
        fflush(stdout);
        for (;;) {
            xipc_stream *c = NULL;
            xipc_peer_credentials who;
            if (xipc_listener_accept(l, XIPC_WAIT_FOREVER, &c) != XIPC_OK ||
                xipc_stream_peer_credentials(c, &who) != XIPC_OK)
                return fail();
            char reply[128];
            int n = snprintf(reply, sizeof reply, "hello pid %d (uid %u, gid %u)", who.pid,
                             who.uid, who.gid);
            xipc_stream_send(c, (const uint8_t *)reply, (size_t)n);
            xipc_stream_close(c);
        }
    }
    if (argc == 3 && strcmp(argv[1], "client") == 0) {
        xipc_stream *c = NULL;
        uint8_t buf[256];
        size_t len;
        if (xipc_unix_connect(argv[2], 5000, &c) != XIPC_OK ||
            xipc_stream_receive(c, buf, sizeof buf, &len) != XIPC_OK)
            return fail();
        printf("%.*s\n", (int)len, (const char *)buf);
        xipc_stream_close(c);
        return 0;
    }
    fprintf(stderr, "usage: unix server PATH | unix client PATH\n");
    return 2;
}
