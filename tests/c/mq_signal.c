/* Signals during blocking xipc_mq calls: a wait interrupted by a signal
 * resumes (and a timed one keeps its deadline) unless retrying is turned off,
 * when it ends with XIPC_EINTR. Each signal is sent once /proc shows the main
 * thread asleep in mq_timedreceive on the queue, and the next step (another
 * signal, the message) comes only once its handler has run. Exit 0 = pass. */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "waiting.h"
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
    /* Atomic: the interrupter thread watches it. */
    __atomic_add_fetch(&signals_seen, 1, __ATOMIC_SEQ_CST);
}

static pthread_t main_thread;
static pid_t main_tid;
static int queue_fd = -1;
static char queue_name[64];
static const long in_mq_receive[] = {SYS_mq_timedreceive, -1};

/* What the interrupter thread does: `signals` times, once the main thread
 * sleeps in mq_timedreceive on the queue, signal it and wait until the
 * handler has run; the last signal no sooner than `last_after_ms` after
 * `start_ms`; then, if `send_after`, send the message the receive waits for. */
typedef struct {
    int signals;
    double start_ms, last_after_ms;
    bool send_after;
} interrupt_plan;

static void *interrupter(void *arg) {
    const interrupt_plan *plan = arg;
    double t0 = now_ms();
    for (int i = 0; i < plan->signals; i++) {
        int before = __atomic_load_n(&signals_seen, __ATOMIC_SEQ_CST);
        if (i == plan->signals - 1)
            UNTIL("the time of the last signal", t0, now_ms() - plan->start_ms >= plan->last_after_ms);
        UNTIL("the receive to block in mq_timedreceive", t0,
              blocked_in(main_tid, in_mq_receive, queue_fd));
        pthread_kill(main_thread, SIGUSR1);
        UNTIL("the signal handler to run", t0,
              __atomic_load_n(&signals_seen, __ATOMIC_SEQ_CST) == before + 1);
    }
    if (plan->send_after) {
        xipc_mq *w = NULL;
        CHECK(xipc_mq_open(queue_name, XIPC_MQ_WRITE, 0, NULL, &w) == XIPC_OK);
        CHECK(xipc_mq_send(w, "after signals", 13, 5) == XIPC_OK);
        CHECK(xipc_mq_close(w) == XIPC_OK);
    }
    return NULL;
}

/* The queue goes with the process, whichever check ends it. */
static void remove_queue(void) {
    if (queue_name[0] != '\0') xipc_mq_unlink(queue_name);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: the kernel returns EINTR */
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    main_thread = pthread_self();
    main_tid = gettid();
    snprintf(queue_name, sizeof queue_name, "/xipc-mq-test-%d-sig", (int)getpid());
    CHECK(atexit(remove_queue) == 0);
    xipc_mq_attr attr = {0};
    attr.max_messages = 2;
    attr.max_message_size = 32;
    xipc_mq *q = NULL;
    CHECK(xipc_mq_open(queue_name, XIPC_MQ_RDWR | XIPC_MQ_CREATE | XIPC_MQ_EXCL, 0600, &attr, &q) == XIPC_OK);
    char buf[32];
    size_t len = 0;
    unsigned prio = 0;
    CHECK(xipc_mq_fd(q, &queue_fd) == XIPC_OK);
    pthread_t t;

    /* A blocking receive survives three signals, each handled while it
     * waits, and gets the message sent after them. */
    interrupt_plan plan = {3, now_ms(), 0, true};
    CHECK(pthread_create(&t, NULL, interrupter, &plan) == 0);
    CHECK(xipc_mq_receive(q, buf, sizeof buf, &len, &prio) == XIPC_OK);
    CHECK(len == 13 && memcmp(buf, "after signals", 13) == 0 && prio == 5);
    pthread_join(t, NULL);
    CHECK(signals_seen == 3);

    /* A timed receive keeps its deadline across signals: the last comes
     * 600 ms into a 1000 ms wait, so a wait that started over after a
     * signal would last at least 1600 ms. */
    signals_seen = 0;
    plan = (interrupt_plan){3, now_ms(), 600, false};
    CHECK(pthread_create(&t, NULL, interrupter, &plan) == 0);
    CHECK(xipc_mq_receive_timeout(q, buf, sizeof buf, &len, &prio, 1000) == XIPC_ETIMEDOUT);
    double waited = now_ms() - plan.start_ms;
    pthread_join(t, NULL);
    CHECK(signals_seen == 3);
    CHECK(waited >= 1000 && waited < 1600);

    /* With retrying off, the first signal ends the wait. */
    signals_seen = 0;
    CHECK(xipc_mq_set_retry_on_signal(q, false) == XIPC_OK);
    plan = (interrupt_plan){1, now_ms(), 0, false};
    CHECK(pthread_create(&t, NULL, interrupter, &plan) == 0);
    CHECK(xipc_mq_receive_timeout(q, buf, sizeof buf, &len, &prio, 5000) == XIPC_EINTR);
    pthread_join(t, NULL);
    CHECK(signals_seen == 1);

    CHECK(xipc_mq_close(q) == XIPC_OK);
    CHECK(xipc_mq_unlink(queue_name) == XIPC_OK);
    queue_name[0] = '\0';
    puts("mq_signal: ok");
    return 0;
}
