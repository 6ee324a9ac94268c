/* A parent hands the writing end of a pipe to a child process (fork + exec),
 * which sends framed messages back.
 * Build: cc -o pipe pipe.c $(pkg-config --cflags --libs xipc) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xipc.h>

static int child(int fd) {
    xipc_stream *w = NULL;
    if (xipc_stream_from_fd(fd, &w) != XIPC_OK) return 1;
    char msg[64];
    for (int i = 1; i <= 3; i++) {
        int n = snprintf(msg, sizeof msg, "message %d from child %d", i, (int)getpid());
        if (xipc_stream_send(w, (const uint8_t *)msg, (size_t)n) != XIPC_OK) return 1;
    }
    xipc_stream_close(w);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2) return child(atoi(argv[1]));

    xipc_stream *r = NULL, *w = NULL;
    int wfd = -1;
    if (xipc_pipe(&r, &w) != XIPC_OK || xipc_stream_set_inheritable(w, true) != XIPC_OK ||
        xipc_stream_fd(w, &wfd) != XIPC_OK) {
        fprintf(stderr, "pipe: %s\n", xipc_last_error());
        return 1;
    }
    char fd[16];
    snprintf(fd, sizeof fd, "%d", wfd);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], fd, (char *)NULL);
        _exit(127);
    }
    xipc_stream_close(w); /* only the child writes now */
    uint8_t buf[256];
    size_t len;
    while (xipc_stream_receive(r, buf, sizeof buf, &len) == XIPC_OK) {
        printf("parent got: %.*s\n", (int)len, (const char *)buf);
    }
    xipc_stream_close(r);
    waitpid(pid, NULL, 0);
    return 0;
}
