/* The demo's C producer: sends jobs, XDR-encoded, through a POSIX message
 * queue, each with its priority (higher is more urgent).
 *
 *   job: struct { unsigned id; string what<64>; }
 *
 * Usage: mq_producer /queue-name   (the queue is created if missing)
 */
#include <stdio.h>

#include <xipc.h>

struct job {
    unsigned id;
    const char *what;
    unsigned priority;
};

static const struct job jobs[] = {
    {1, "rotate the logs", 1},
    {2, "disk almost full", 9},
    {3, "compress backups", 1},
    {4, "nightly report", 5},
};

static int send_job(xipc_mq *queue, const struct job *job) {
    xipc_encoder *enc = NULL;
    const uint8_t *data;
    size_t len;
    int rc = xipc_encoder_new(&enc);
    if (rc == XIPC_OK && (rc = xipc_encoder_put_uint(enc, job->id)) == XIPC_OK &&
        (rc = xipc_encoder_put_string(enc, job->what)) == XIPC_OK &&
        (rc = xipc_encoder_data(enc, &data, &len)) == XIPC_OK)
        rc = xipc_mq_send_timeout(queue, data, len, job->priority, 5000);
    xipc_encoder_free(enc);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s /queue-name\n", argv[0]);
        return 2;
    }
    xipc_mq_attr attr = {0};
    attr.max_messages = 10;
    attr.max_message_size = 128;
    xipc_mq *queue = NULL;
    int rc = xipc_mq_open(argv[1], XIPC_MQ_WRITE | XIPC_MQ_CREATE, 0600, &attr, &queue);
    if (rc != XIPC_OK) {
        fprintf(stderr, "C producer: open %s: %s\n", argv[1], xipc_last_error());
        return 1;
    }
    printf("C producer: sent");
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        if ((rc = send_job(queue, &jobs[i])) != XIPC_OK) {
            fprintf(stderr, "\nC producer: send: %s\n", xipc_last_error());
            xipc_mq_close(queue);
            return 1;
        }
        printf("%s job %u \"%s\" (priority %u)", i ? "," : "", jobs[i].id, jobs[i].what, jobs[i].priority);
    }
    printf("\n");
    return xipc_mq_close(queue) == XIPC_OK ? 0 : 1;
}
