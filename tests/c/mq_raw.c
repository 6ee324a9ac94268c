/* xipc queues interoperate with plain mq_* calls, across processes: a child
 * using only raw mq_send/mq_receive talks to a parent using xipc_mq, both
 * ways, with exact bytes and priorities. Exit 0 = pass. */
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xipc.h"

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__, \
                    __LINE__, #cond, xipc_last_error());                             \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static const unsigned char payload[] = {0x00, 0x00, 0x00, 0x2a, 0xde, 0xad, 0xbe, 0xef, 0x00, 0xff};

/* The raw side: receives one message on `to_raw`, checks it, answers on `to_xipc`. */
static int raw_peer(const char *to_raw, const char *to_xipc) {
    mqd_t in = mq_open(to_raw, O_RDONLY);
    mqd_t out = mq_open(to_xipc, O_WRONLY);
    if (in == (mqd_t)-1 || out == (mqd_t)-1) return 2;
    struct mq_attr a;
    if (mq_getattr(in, &a) != 0) return 3;
    char *buf = malloc((size_t)a.mq_msgsize);
    unsigned prio = 0;
    ssize_t n = mq_receive(in, buf, (size_t)a.mq_msgsize, &prio);
    if (n != (ssize_t)sizeof payload || memcmp(buf, payload, sizeof payload) != 0 || prio != 17) return 4;
    /* Answer with the bytes reversed, two priorities. */
    for (size_t i = 0; i < sizeof payload; i++) buf[i] = (char)payload[sizeof payload - 1 - i];
    if (mq_send(out, buf, sizeof payload, 1) != 0) return 5;
    if (mq_send(out, "urgent", 6, 30) != 0) return 6;
    free(buf);
    mq_close(in);
    mq_close(out);
    return 0;
}

int main(void) {
    char to_raw[64], to_xipc[64];
    snprintf(to_raw, sizeof to_raw, "/xipc-mq-test-%d-raw-in", (int)getpid());
    snprintf(to_xipc, sizeof to_xipc, "/xipc-mq-test-%d-raw-out", (int)getpid());

    /* One queue created by xipc, the other by raw mq_open. */
    xipc_mq_attr attr = {0};
    attr.max_messages = 4;
    attr.max_message_size = 128;
    xipc_mq *out = NULL, *in = NULL;
    CHECK(xipc_mq_open(to_raw, XIPC_MQ_WRITE | XIPC_MQ_CREATE | XIPC_MQ_EXCL, 0600, &attr, &out) == XIPC_OK);
    struct mq_attr raw_attr = {0};
    raw_attr.mq_maxmsg = 4;
    raw_attr.mq_msgsize = 64;
    mqd_t raw = mq_open(to_xipc, O_RDONLY | O_CREAT | O_EXCL, 0600, &raw_attr);
    CHECK(raw != (mqd_t)-1);
    CHECK(xipc_mq_open(to_xipc, XIPC_MQ_READ, 0, NULL, &in) == XIPC_OK);
    xipc_mq_attr seen;
    CHECK(xipc_mq_attributes(in, &seen) == XIPC_OK && seen.max_messages == 4 && seen.max_message_size == 64);

    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) _exit(raw_peer(to_raw, to_xipc));

    CHECK(xipc_mq_send(out, payload, sizeof payload, 17) == XIPC_OK);
    char buf[64];
    size_t len = 0;
    unsigned prio = 0;
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));
    if (WEXITSTATUS(status) != 0) {
        fprintf(stderr, "raw peer failed with %d\n", WEXITSTATUS(status));
        return 1;
    }
    CHECK(xipc_mq_receive_timeout(in, buf, sizeof buf, &len, &prio, 5000) == XIPC_OK);
    CHECK(len == 6 && memcmp(buf, "urgent", 6) == 0 && prio == 30);
    CHECK(xipc_mq_receive_timeout(in, buf, sizeof buf, &len, &prio, 5000) == XIPC_OK);
    CHECK(len == sizeof payload && prio == 1);
    for (size_t i = 0; i < sizeof payload; i++) CHECK((unsigned char)buf[i] == payload[sizeof payload - 1 - i]);

    /* A buffer one byte short of the queue's message size: the message stays. */
    CHECK(mq_send(mq_open(to_xipc, O_WRONLY), "kept", 4, 3) == 0);
    CHECK(xipc_mq_receive(in, buf, 63, &len, &prio) == XIPC_EMSGSIZE);
    char rbuf[64];
    unsigned rprio = 0;
    CHECK(mq_receive(raw, rbuf, sizeof rbuf, &rprio) == 4 && memcmp(rbuf, "kept", 4) == 0 && rprio == 3);

    CHECK(xipc_mq_close(out) == XIPC_OK);
    CHECK(xipc_mq_close(in) == XIPC_OK);
    mq_close(raw);
    CHECK(xipc_mq_unlink(to_raw) == XIPC_OK);
    CHECK(mq_unlink(to_xipc) == 0);
    puts("mq_raw: ok");
    return 0;
}
