/* Sends each argument as one message to a POSIX message queue, creating the
 * queue if needed.
 *
 *   cc send.c -o send -lxipc && ./send /demo 5 hello world
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xipc.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s /queue-name priority message...\n", argv[0]);
        return 2;
    }
    xipc_mq_attr attr = {0};
    attr.max_messages = 10;
    attr.max_message_size = 1024;
    xipc_mq *queue = NULL;
    int rc = xipc_mq_open(argv[1], XIPC_MQ_WRITE | XIPC_MQ_CREATE, 0600, &attr, &queue);
    if (rc != XIPC_OK) {
        fprintf(stderr, "open %s: %s\n", argv[1], xipc_last_error());
        return 1;
    }
    unsigned priority = (unsigned)strtoul(argv[2], NULL, 10);
    for (int i = 3; i < argc; i++) {
        /* Wait at most 5 seconds for room in a full queue. */
        rc = xipc_mq_send_timeout(queue, argv[i], strlen(argv[i]), priority, 5000);
        if (rc != XIPC_OK) {
            fprintf(stderr, "send: %s\n", xipc_last_error());
            xipc_mq_close(queue);
            return 1;
        }
    }
    return xipc_mq_close(queue) == XIPC_OK ? 0 : 1;
}
