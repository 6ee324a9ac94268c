/* Messages through a FIFO between unrelated processes.
 *   ./fifo read /tmp/demo.fifo          (creates it, prints messages)
 *   ./fifo write /tmp/demo.fifo hello   (sends each word as a message)
 * Build: cc -o fifo fifo.c $(pkg-config --cflags --libs xipc) */
#include <stdio.h>
#include <string.h>

#include <xipc.h>

int main(int argc, char **argv) {
    xipc_stream *s = NULL;
    if (argc >= 3 && strcmp(argv[1], "read") == 0) {
        int rc = xipc_mkfifo(argv[2], 0600);
        if ((rc != XIPC_OK && rc != XIPC_EEXIST) ||
            xipc_fifo_open(argv[2], XIPC_FIFO_READ, true, &s) != XIPC_OK) {
            fprintf(stderr, "fifo: %s\n", xipc_last_error());
            return 1;
        }
        uint8_t buf[4096];
        size_t len;
        while (xipc_stream_receive(s, buf, sizeof buf, &len) == XIPC_OK) {
            printf("%.*s\n", (int)len, (const char *)buf);
        }
    } else if (argc >= 3 && strcmp(argv[1], "write") == 0) {
        if (xipc_fifo_open(argv[2], XIPC_FIFO_WRITE, true, &s) != XIPC_OK) {
            fprintf(stderr, "fifo: %s\n", xipc_last_error());
            return 1;
        }
        for (int i = 3; i < argc; i++) {
            xipc_stream_send(s, (const uint8_t *)argv[i], strlen(argv[i]));
        }
    } else {
        fprintf(stderr, "usage: fifo read PATH | fifo write PATH WORDS...\n");
        return 2;
    }
    xipc_stream_close(s);
    return 0;
}
