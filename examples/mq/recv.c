/* Receives COUNT messages from a POSIX message queue (creating it if
 * needed) and prints each as "PRIORITY TEXT", most urgent first.
 *
 *   cc recv.c -o recv -lxipc && ./recv /demo 2
 */
#include <stdio.h>
#include <stdlib.h>

#include <xipc.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s /queue-name count\n", argv[0]);
        return 2;
    }
    xipc_mq_attr attr = {0};
    attr.max_messages = 10;
    attr.max_message_size = 1024;
    xipc_mq *queue = NULL;
    if (xipc_mq_open(argv[1], XIPC_MQ_READ | XIPC_MQ_CREATE, 0600, &attr, &queue) != XIPC_OK) {
        fprintf(stderr, "open %s: %s\n", argv[1], xipc_last_error());
        return 1;
    }
    char buf[1024]; /* at least the queue's message size */
    int count = atoi(argv[2]);
    for (int i = 0; i < count; i++) {
        size_t len;
        unsigned priority;
        /* Wait at most 10 seconds for each message. */
        if (xipc_mq_receive_timeout(queue, buf, sizeof buf, &len, &priority, 10000) != XIPC_OK) {
            fprintf(stderr, "receive: %s\n", xipc_last_error());
            xipc_mq_close(queue);
            return 1;
        }
        printf("%u %.*s\n", priority, (int)len, buf);
    }
    return xipc_mq_close(queue) == XIPC_OK ? 0 : 1;
}
