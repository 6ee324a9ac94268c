/* A floor for the TLS rows of benches/rpc.sh: 64 KiB echoes over TCP with
 * no RPC at all, in the clear or over TLS 1.3 made by OpenSSL (a TLS stack
 * independent of xipc's, with the cipher suite xipc prefers,
 * TLS_AES_128_GCM_SHA256), so that what TLS itself costs on this machine
 * can be set beside what it costs xipc.
 * usage: tls_echo server plain|DIR           (prints "tcp PORT udp 0"; a
 *                                             thread per connection; DIR
 *                                             holds server.pem and
 *                                             server.key, as made by
 *                                             tests/tls/make_certs.sh)
 *        tls_echo client plain|DIR PORT N    (N echoes of 64 KiB, the
 *                                             server checked against
 *                                             DIR/ca.pem; prints MiB/s, an
 *                                             echo's 64 KiB counted once)
 * OpenSSL is set as a program that cares for throughput would set it: read
 * ahead into a buffer that holds a whole record, no session tickets. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "loopback.h"

#define BLOB 65536

static SSL_CTX *ctx; /* NULL: in the clear */

static void die(const char *what) {
    fprintf(stderr, "tls_echo: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* Reads or writes all n bytes, through TLS when `ssl` is set. */
static int full(int fd, SSL *ssl, char *buf, size_t n, int writing) {
    size_t done = 0;
    while (done < n) {
        int want = n - done > 1 << 30 ? 1 << 30 : (int)(n - done);
        long r;
        if (ssl) r = writing ? SSL_write(ssl, buf + done, want) : SSL_read(ssl, buf + done, want);
        else r = writing ? write(fd, buf + done, (size_t)want) : read(fd, buf + done, (size_t)want);
        if (r <= 0) return -1;
        done += (size_t)r;
    }
    return 0;
}

static SSL_CTX *context(const char *dir, int server) {
    char path[4096];
    SSL_CTX *c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!c || !SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) ||
        !SSL_CTX_set_ciphersuites(c, "TLS_AES_128_GCM_SHA256"))
        die("cannot set up OpenSSL");
    SSL_CTX_set_read_ahead(c, 1);
    SSL_CTX_set_default_read_buffer_len(c, 16384 + 512);
    if (server) {
        SSL_CTX_set_num_tickets(c, 0);
        snprintf(path, sizeof path, "%s/server.pem", dir);
        if (SSL_CTX_use_certificate_chain_file(c, path) != 1) die("cannot load server.pem");
        snprintf(path, sizeof path, "%s/server.key", dir);
        if (SSL_CTX_use_PrivateKey_file(c, path, SSL_FILETYPE_PEM) != 1) die("cannot load server.key");
    } else {
        snprintf(path, sizeof path, "%s/ca.pem", dir);
        if (SSL_CTX_load_verify_locations(c, path, NULL) != 1) die("cannot load ca.pem");
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    }
    return c;
}

static void *serve(void *arg) {
    int c = (int)(long)arg, one = 1;
    char *buf = malloc(BLOB);
    SSL *ssl = NULL;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (ctx && (!(ssl = SSL_new(ctx)) || !SSL_set_fd(ssl, c) || SSL_accept(ssl) != 1)) goto out;
    while (buf && full(c, ssl, buf, BLOB, 0) == 0 && full(c, ssl, buf, BLOB, 1) == 0) {}
out:
    if (ssl) SSL_free(ssl);
    free(buf);
    close(c);
    return NULL;
}

int main(int argc, char **argv) {
    int server = argc == 3 && strcmp(argv[1], "server") == 0;
    if (!server && (argc != 5 || strcmp(argv[1], "client") != 0)) {
        fprintf(stderr, "usage: tls_echo server plain|DIR | client plain|DIR PORT N\n");
        return 2;
    }
    if (strcmp(argv[2], "plain") != 0) ctx = context(argv[2], server);
    if (server) return loopback_serve_threads(loopback_listen(), serve);
    long n = atol(argv[4]);
    int s = loopback_dial(atoi(argv[3]));
    SSL *ssl = NULL;
    if (ctx) {
        if (!(ssl = SSL_new(ctx)) || !SSL_set_fd(ssl, s) ||
            !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") || SSL_connect(ssl) != 1)
            die("the TLS handshake failed");
    }
    char *buf = calloc(1, BLOB);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        if (full(s, ssl, buf, BLOB, 1) || full(s, ssl, buf, BLOB, 0)) die("an echo failed");
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.1f\n", n * (double)BLOB / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9) / (1 << 20));
    if (ssl) SSL_free(ssl);
    close(s);
    return 0;
}
