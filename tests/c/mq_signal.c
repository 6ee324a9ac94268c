/* Signals during blocking xipc_mq calls: a wait interrupted by a signal
 * resumes (and a timed one keeps its deadline) unless retrying is turned off,
 * when it ends with XIPC_EINTR. Exit 0 = pass. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static volatile sig_atomic_t signals_seen;
static void on_signal(int sig) {
    (void)sig;
    signals_seen++;
}

static pthread_t main_thread;
static char queue_name[64];

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Signals the main thread three times, 50 ms apart, then (if asked) sends. */
static void *interrupter(void *send_after) {
    for (int i = 0; i < 3; i++) {
        sleep_ms(50);
        pthread_kill(main_thread, SIGUSR1);
    }
    if (send_after) {
        sleep_ms(100);
        xipc_mq *w = NULL;
        if (xipc_mq_open(queue_name, XIPC_MQ_WRITE, 0, NULL, &w) == XIPC_OK) {
            xipc_mq_send(w, "after signals", 13, 5);
            xipc_mq_close(w);
        }
    }
    return NULL;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: the kernel returns EINTR */
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    main_thread = pthread_self();
    snprintf(queue_name, sizeof queue_name, "/xipc-mq-test-%d-sig", (int)getpid());
    xipc_mq_attr attr = {0};
    attr.max_messages = 2;
    attr.max_message_size = 32;
    xipc_mq *q = NULL;
    CHECK(xipc_mq_open(queue_name, XIPC_MQ_RDWR | XIPC_MQ_CREATE | XIPC_MQ_EXCL, 0600, &attr, &q) == XIPC_OK);
    char buf[32];
    size_t len = 0;
    unsigned prio = 0;
    pthread_t t;

    /* A blocking receive survives three signals and gets the message. */
    CHECK(pthread_create(&t, NULL, interrupter, (void *)1) == 0);
    CHECK(xipc_mq_receive(q, buf, sizeof buf, &len, &prio) == XIPC_OK);
    CHECK(len == 13 && memcmp(buf, "after signals", 13) == 0 && prio == 5);
    pthread_join(t, NULL);
    CHECK(signals_seen == 3);

    /* A timed receive keeps its deadline across signals. */
    signals_seen = 0;
    CHECK(pthread_create(&t, NULL, interrupter, NULL) == 0);
    double start = now_ms();
    CHECK(xipc_mq_receive_timeout(q, buf, sizeof buf, &len, &prio, 300) == XIPC_ETIMEDOUT);
    double waited = now_ms() - start;
    pthread_join(t, NULL);
    CHECK(signals_seen == 3);
    CHECK(waited >= 300 && waited < 3000);

    /* With retrying off, the first signal ends the wait. */
    signals_seen = 0;
    CHECK(xipc_mq_set_retry_on_signal(q, false) == XIPC_OK);
    CHECK(pthread_create(&t, NULL, interrupter, NULL) == 0);
    CHECK(xipc_mq_receive_timeout(q, buf, sizeof buf, &len, &prio, 5000) == XIPC_EINTR);
    pthread_join(t, NULL);

    CHECK(xipc_mq_close(q) == XIPC_OK);
    CHECK(xipc_mq_unlink(queue_name) == XIPC_OK);
    puts("mq_signal: ok");
    return 0;
}
