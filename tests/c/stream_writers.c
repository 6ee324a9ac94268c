/* Several processes write framed messages to one pipe (and one FIFO) at
 * once: every frame of at most PIPE_BUF bytes arrives whole, never
 * interleaved with another writer's. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xipc.h"

#define WRITERS 4
#define MESSAGES 300
/* Header included, a frame is exactly PIPE_BUF bytes: the largest atomic write. */
#define MSG_LEN (PIPE_BUF - 4)

static void fill(uint8_t *msg, int writer, int seq) {
    for (int i = 0; i < MSG_LEN; i++) {
        msg[i] = (uint8_t)(writer * 31 + seq + i);
    }
    msg[0] = (uint8_t)writer;
    msg[1] = (uint8_t)(seq >> 8);
    msg[2] = (uint8_t)seq;
}

static void writer(xipc_stream *w, int id) {
    uint8_t msg[MSG_LEN];
    for (int seq = 0; seq < MESSAGES; seq++) {
        fill(msg, id, seq);
        if (xipc_stream_send(w, msg, sizeof msg) != XIPC_OK) {
            fprintf(stderr, "writer %d: %s\n", id, xipc_last_error());
            _exit(1);
        }
    }
    _exit(0);
}

static int run(xipc_stream *r, xipc_stream *w, const char *what) {
    for (int id = 0; id < WRITERS; id++) {
        pid_t pid = fork();
        if (pid == 0) {
            xipc_stream_close(r);
            writer(w, id);
        }
    }
    xipc_stream_close(w);
    int next[WRITERS] = {0};
    uint8_t msg[MSG_LEN + 16], want[MSG_LEN];
    size_t len = 0;
    int total = 0, rc;
    while ((rc = xipc_stream_receive(r, msg, sizeof msg, &len)) == XIPC_OK) {
        int id = msg[0];
        if (len != MSG_LEN || id >= WRITERS) {
            fprintf(stderr, "%s: bad message of %zu bytes from %d\n", what, len, id);
            return 1;
        }
        fill(want, id, next[id]);
        if (memcmp(msg, want, MSG_LEN) != 0) {
            fprintf(stderr, "%s: message %d of writer %d is mixed up\n", what, next[id], id);
            return 1;
        }
        next[id]++;
        total++;
    }
    if (rc != XIPC_ECLOSED || strcmp(xipc_last_error(), "end of stream") != 0) {
        fprintf(stderr, "%s: ended with %d: %s\n", what, rc, xipc_last_error());
        return 1;
    }
    int status, failed = 0;
    while (wait(&status) > 0) {
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    if (failed || total != WRITERS * MESSAGES) {
        fprintf(stderr, "%s: %d messages, a writer failed: %d\n", what, total, failed);
        return 1;
    }
    xipc_stream_close(r);
    printf("%s: %d writers x %d messages of %d bytes, none interleaved\n", what, WRITERS,
           MESSAGES, MSG_LEN);
    return 0;
}

int main(void) {
    xipc_stream *r = NULL, *w = NULL;
    if (xipc_pipe(&r, &w) != XIPC_OK || run(r, w, "pipe")) {
        return 1;
    }
    char dir[] = "/tmp/xipc-stream-writers-XXXXXX", path[128];
    if (!mkdtemp(dir)) {
        return 1;
    }
    snprintf(path, sizeof path, "%s/fifo", dir);
    if (xipc_mkfifo(path, 0600) != XIPC_OK ||
        xipc_fifo_open(path, XIPC_FIFO_READ, false, &r) != XIPC_OK ||
        xipc_fifo_open(path, XIPC_FIFO_WRITE, true, &w) != XIPC_OK ||
        xipc_stream_set_nonblocking(r, false) != XIPC_OK) {
        fprintf(stderr, "fifo: %s\n", xipc_last_error());
        return 1;
    }
    int rc = run(r, w, "fifo");
    unlink(path);
    rmdir(dir);
    return rc;
}
