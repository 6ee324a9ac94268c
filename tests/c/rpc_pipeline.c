/* The RPC C API with its defaults: calls that several threads make through
 * one client are in flight together on its one connection and run together
 * in the server; a handler whose argument decoding fails answers
 * GARBAGE_ARGS; Unix sockets get the permissions asked for, whatever the
 * umask. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define PROG 0x20005679u
#define N 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arrived_cv = PTHREAD_COND_INITIALIZER;
static int arrived;

/* Procedure 1 returns (echoing its argument) only once N calls are inside
 * it together; SYSTEM_ERR after 20 s otherwise. */
static int rendezvous(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                      xipc_encoder *result) {
    (void)user; (void)call;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&lock);
    arrived++;
    pthread_cond_broadcast(&arrived_cv);
    int rc = 0;
    while (arrived < N && rc == 0)
        rc = pthread_cond_timedwait(&arrived_cv, &lock, &until);
    int all = arrived >= N;
    pthread_mutex_unlock(&lock);
    return all ? xipc_encoder_put_raw(result, args, len) : XIPC_ESYSTEM_ERR;
}

/* Procedure 2 decodes two unsigned ints and returns their sum; a decoding
 * error is returned as it is. */
static int add(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
               xipc_encoder *result) {
    (void)user; (void)call;
    xipc_decoder *d = NULL;
    uint32_t a = 0, b = 0;
    int rc = xipc_decoder_new(args, len, NULL, &d);
    if (rc == 0) rc = xipc_decoder_get_uint(d, &a);
    if (rc == 0) rc = xipc_decoder_get_uint(d, &b);
    if (rc == 0) rc = xipc_decoder_finish(d);
    xipc_decoder_free(d);
    return rc != 0 ? rc : xipc_encoder_put_uint(result, a + b);
}

struct caller {
    xipc_rpc_client *client;
    uint8_t arg[4];
    int rc;
    uint8_t reply[4];
};

static void *call_one(void *p) {
    struct caller *c = p;
    uint8_t *reply = NULL;
    size_t len = 0;
    c->rc = xipc_rpc_client_call(c->client, 1, c->arg, 4, &reply, &len);
    if (c->rc == 0) {
        if (len == 4) memcpy(c->reply, reply, 4);
        else c->rc = -1;
        xipc_bytes_free(reply, len);
    }
    return NULL;
}

static mode_t mode_of(const char *path) {
    struct stat st;
    CHECK(stat(path, &st));
    return st.st_mode & 0777;
}

int main(void) {
    xipc_rpc_server *s = NULL;
    CHECK(xipc_rpc_server_new(&s));
    CHECK(xipc_rpc_server_set_rpcbind_registration(s, false));
    CHECK(xipc_rpc_server_register(s, PROG, 1, 1, rendezvous, NULL));
    CHECK(xipc_rpc_server_register(s, PROG, 1, 2, add, NULL));
    uint16_t tcp = 0;
    CHECK(xipc_rpc_server_listen_tcp(s, "127.0.0.1", 0, &tcp));
    char path[2][64];
    mode_t old = umask(0);
    for (int i = 0; i < 2; i++)
        snprintf(path[i], sizeof path[i], "/tmp/xipc-rpc-pipe-%d-%d.sock", (int)getpid(), i);
    CHECK(xipc_rpc_server_listen_unix(s, path[0]));
    CHECK(xipc_rpc_server_listen_unix_mode(s, path[1], 0640));
    umask(old);
    EXPECT(mode_of(path[0]) == 0600);
    EXPECT(mode_of(path[1]) == 0640);
    CHECK(xipc_rpc_server_start(s));

    xipc_rpc_client *c = NULL;
    CHECK(xipc_rpc_client_connect("127.0.0.1", tcp, PROG, 1, "tcp", &c));
    CHECK(xipc_rpc_client_set_timeout(c, 30000));
    struct caller callers[N];
    pthread_t threads[N];
    for (int i = 0; i < N; i++) {
        callers[i].client = c;
        memcpy(callers[i].arg, (uint8_t[4]){0, 0, 0, (uint8_t)i}, 4);
        callers[i].rc = -1;
        EXPECT(pthread_create(&threads[i], NULL, call_one, &callers[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        EXPECT(pthread_join(threads[i], NULL) == 0);
        EXPECT(callers[i].rc == 0);
        EXPECT(memcmp(callers[i].reply, callers[i].arg, 4) == 0);
    }

    /* Arguments a handler cannot decode: GARBAGE_ARGS, and the server goes on. */
    const uint8_t good[8] = {0, 0, 0, 40, 0, 0, 0, 2}, shrt[6] = {0, 0, 0, 40, 0, 0};
    uint8_t *reply = NULL;
    size_t len = 0;
    EXPECT(xipc_rpc_client_call(c, 2, shrt, sizeof shrt, &reply, &len) == XIPC_EGARBAGE_ARGS);
    EXPECT(xipc_rpc_client_call(c, 2, good, 4, &reply, &len) == XIPC_EGARBAGE_ARGS);
    CHECK(xipc_rpc_client_call(c, 2, good, sizeof good, &reply, &len));
    EXPECT(len == 4 && reply[3] == 42);
    xipc_bytes_free(reply, len);
    xipc_rpc_client_close(c);

    CHECK(xipc_rpc_server_stop(s));
    xipc_rpc_server_close(s);
    EXPECT(access(path[0], F_OK) != 0 && access(path[1], F_OK) != 0);
    puts("rpc_pipeline: ok");
    return 0;
}
