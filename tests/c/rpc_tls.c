/* RPC-with-TLS (RFC 9289) from C: a configuration from PEM files and from
 * PEM bytes, an mtls server and client, the caller's certificate identity
 * in a handler, a handler refusing a caller by identity (XIPC_EAUTH), and
 * the clear errors: a client without a certificate under mtls, a cleartext
 * call on a TLS listener, an untrusted server, a bad configuration; a
 * listener's certificate replaced and reloaded while it serves; a
 * revocation list refusing the certificate it names.
 *
 * The certificates come from tests/tls/make_certs.sh, in the directory
 * named by XIPC_TEST_CERTS (the Makefile makes them before the C tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"

#define PROG 0x2000567Au

static const char *certs;

static const char *cert_path(const char *name) {
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", certs, name);
    return p;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    EXPECT(f != NULL);
    EXPECT(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    EXPECT(n > 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    EXPECT(buf != NULL);
    EXPECT(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Procedure 1: the caller's subject, fingerprint and subjectAltNames as
 * XDR strings (subject, fingerprint, count, each SAN). Procedure 2: refused
 * unless the caller is CN=client-1. */
static int put_string(xipc_encoder *e, const char *s) {
    return xipc_encoder_put_string(e, s);
}

static int who(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
               xipc_encoder *result) {
    (void)user; (void)args; (void)len;
    const char *subject = NULL, *fingerprint = NULL, *san = NULL;
    size_t nsans = 0;
    if (xipc_rpc_call_tls_peer(call, &subject, &fingerprint, &nsans) != 0)
        return XIPC_ESYSTEM_ERR;
    if (put_string(result, subject) || put_string(result, fingerprint) ||
        xipc_encoder_put_uint(result, (uint32_t)nsans))
        return XIPC_ESYSTEM_ERR;
    for (size_t i = 0; i < nsans; i++) {
        if (xipc_rpc_call_tls_san(call, i, &san) != 0 || put_string(result, san))
            return XIPC_ESYSTEM_ERR;
    }
    if (xipc_rpc_call_tls_san(call, nsans, &san) != XIPC_EINVAL) return XIPC_ESYSTEM_ERR;
    return 0;
}

static int only_client_1(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                         xipc_encoder *result) {
    (void)user; (void)args; (void)len; (void)result;
    const char *subject = NULL;
    if (xipc_rpc_call_tls_peer(call, &subject, NULL, NULL) != 0) return XIPC_EAUTH;
    return strncmp(subject, "CN=client-1,", 12) == 0 ? 0 : XIPC_EAUTH;
}

static int echo(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                xipc_encoder *result) {
    (void)user; (void)call;
    return xipc_encoder_put_raw(result, args, len);
}

/* Whether a client with `tls` gets its call answered on `port` (0: it was
 * refused with a TLS error; anything else fails the test). */
static int answered(uint16_t port, const xipc_tls_config *tls) {
    xipc_rpc_client *c = NULL;
    int rc = xipc_rpc_client_connect_tls("127.0.0.1", port, PROG, 2, "tcp", tls, &c);
    if (rc == XIPC_ETLS) return 0;
    CHECK(rc);
    CHECK(xipc_rpc_client_set_timeout(c, 20000));
    uint8_t arg[4] = {0, 0, 0, 7}, *reply = NULL;
    size_t reply_len = 0;
    CHECK(xipc_rpc_client_call(c, 1, arg, sizeof arg, &reply, &reply_len));
    EXPECT(reply_len == 4 && memcmp(reply, arg, 4) == 0);
    xipc_bytes_free(reply, reply_len);
    xipc_rpc_client_close(c);
    return 1;
}

static xipc_tls_config *config_files(const char *policy, const char *ca, const char *cert,
                                     const char *key) {
    xipc_tls_options o;
    memset(&o, 0, sizeof o);
    o.policy = policy;
    o.ca_file = ca ? cert_path(ca) : NULL;
    o.cert_file = cert ? cert_path(cert) : NULL;
    o.key_file = key ? cert_path(key) : NULL;
    xipc_tls_config *t = NULL;
    CHECK(xipc_tls_config_new(&o, &t));
    return t;
}

int main(void) {
    certs = getenv("XIPC_TEST_CERTS");
    if (!certs) {
        fprintf(stderr, "rpc_tls: set XIPC_TEST_CERTS to a directory made by "
                        "tests/tls/make_certs.sh (make test-c does)\n");
        return 1;
    }

    /* The server: mtls, from PEM bytes. */
    size_t ca_len, cert_len, key_len;
    uint8_t *ca = read_file(cert_path("ca.pem"), &ca_len);
    uint8_t *cert = read_file(cert_path("server.pem"), &cert_len);
    uint8_t *key = read_file(cert_path("server.key"), &key_len);
    xipc_tls_options so;
    memset(&so, 0, sizeof so);
    so.policy = "mtls";
    so.ca_pem = ca, so.ca_pem_len = ca_len;
    so.cert_pem = cert, so.cert_pem_len = cert_len;
    so.key_pem = key, so.key_pem_len = key_len;
    xipc_tls_config *server_tls = NULL;
    CHECK(xipc_tls_config_new(&so, &server_tls));
    free(ca), free(cert), free(key);

    xipc_rpc_server *s = NULL;
    CHECK(xipc_rpc_server_new(&s));
    CHECK(xipc_rpc_server_set_rpcbind_registration(s, false));
    CHECK(xipc_rpc_server_register(s, PROG, 1, 1, who, NULL));
    CHECK(xipc_rpc_server_register(s, PROG, 1, 2, only_client_1, NULL));
    uint16_t port = 0;
    CHECK(xipc_rpc_server_listen_tcp_tls(s, "127.0.0.1", 0, server_tls, &port));
    char path[96];
    snprintf(path, sizeof path, "/tmp/xipc-rpc-tls-%d.sock", (int)getpid());
    CHECK(xipc_rpc_server_listen_unix_tls(s, path, 0600, server_tls));
    xipc_tls_config_free(server_tls); /* listeners keep what they need */
    CHECK(xipc_rpc_server_start(s));

    /* An mtls client, from files: the identity reaches the handler. */
    xipc_tls_config *client_tls = config_files("mtls", "ca.pem", "client.pem", "client.key");
    xipc_rpc_client *c = NULL;
    CHECK(xipc_rpc_client_connect_tls("127.0.0.1", port, PROG, 1, "tcp", client_tls, &c));
    CHECK(xipc_rpc_client_set_timeout(c, 20000));
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    CHECK(xipc_rpc_client_call(c, 1, NULL, 0, &reply, &reply_len));
    xipc_decoder *d = NULL;
    CHECK(xipc_decoder_new(reply, reply_len, NULL, &d));
    char text[256];
    size_t n = 0;
    CHECK(xipc_decoder_get_string(d, 255, text, sizeof text, &n));
    EXPECT(strcmp(text, "CN=client-1,O=xipc tests") == 0);
    CHECK(xipc_decoder_get_string(d, 255, text, sizeof text, &n));
    EXPECT(n == 64); /* SHA-256 in hex */
    uint32_t nsans = 0;
    CHECK(xipc_decoder_get_uint(d, &nsans));
    EXPECT(nsans == 2);
    CHECK(xipc_decoder_get_string(d, 255, text, sizeof text, &n));
    EXPECT(strcmp(text, "DNS:client-1.example") == 0);
    CHECK(xipc_decoder_get_string(d, 255, text, sizeof text, &n));
    EXPECT(strcmp(text, "email:client-1@example.org") == 0);
    xipc_decoder_free(d);
    xipc_bytes_free(reply, reply_len);
    CHECK(xipc_rpc_client_call(c, 2, NULL, 0, &reply, &reply_len));
    xipc_bytes_free(reply, reply_len);
    xipc_rpc_client_close(c);

    /* Over the Unix socket too (the server's certificate names localhost). */
    CHECK(xipc_rpc_client_connect_tls(path, 0, PROG, 1, "unix", client_tls, &c));
    CHECK(xipc_rpc_client_set_timeout(c, 20000));
    CHECK(xipc_rpc_client_call(c, 2, NULL, 0, &reply, &reply_len));
    xipc_bytes_free(reply, reply_len);
    xipc_rpc_client_close(c);
    xipc_tls_config_free(client_tls);

    /* Another identity, trusted by the CA but refused by the handler. */
    xipc_tls_config *other = config_files("mtls", "ca.pem", "server.pem", "server.key");
    CHECK(xipc_rpc_client_connect_tls("127.0.0.1", port, PROG, 1, "tcp", other, &c));
    CHECK(xipc_rpc_client_set_timeout(c, 20000));
    EXPECT(xipc_rpc_client_call(c, 2, NULL, 0, &reply, &reply_len) == XIPC_EAUTH);
    uint32_t low = 0, high = 0, stat = 0;
    CHECK(xipc_rpc_last_error_details(&low, &high, &stat));
    EXPECT(stat == 5); /* AUTH_TOOWEAK */
    xipc_rpc_client_close(c);
    xipc_tls_config_free(other);

    /* No client certificate under mtls: a TLS error, named. */
    xipc_tls_config *no_cert = config_files("tls", "ca.pem", NULL, NULL);
    int rc = xipc_rpc_client_connect_tls("127.0.0.1", port, PROG, 1, "tcp", no_cert, &c);
    if (rc == 0) { /* TLS 1.3: the refusal may come with the first call */
        rc = xipc_rpc_client_call(c, 2, NULL, 0, &reply, &reply_len);
        xipc_rpc_client_close(c);
    }
    EXPECT(rc == XIPC_ETLS);
    xipc_tls_config_free(no_cert);

    /* A server from a CA this client does not trust. */
    xipc_tls_config *wrong_ca = config_files("mtls", "other-ca.pem", "client.pem", "client.key");
    EXPECT(xipc_rpc_client_connect_tls("127.0.0.1", port, PROG, 1, "tcp", wrong_ca, &c) ==
           XIPC_ETLS);
    EXPECT(strstr(xipc_last_error(), "certificate") != NULL);
    xipc_tls_config_free(wrong_ca);

    /* A listener that never accepts nor answers: the timed connect gives
     * up on the probe when its timeout passes, not after 25 s. */
    {
        int silent = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa;
        socklen_t sa_len = sizeof sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT(silent >= 0 && bind(silent, (struct sockaddr *)&sa, sizeof sa) == 0 &&
               listen(silent, 4) == 0 &&
               getsockname(silent, (struct sockaddr *)&sa, &sa_len) == 0);
        xipc_tls_config *anon = config_files("tls", "ca.pem", NULL, NULL);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        EXPECT(xipc_rpc_client_connect_timeout("127.0.0.1", ntohs(sa.sin_port), PROG, 1, "tcp", anon,
                                             300, &c) == XIPC_ETIMEDOUT);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        EXPECT(took >= 0.3 && took < 5);
        /* No time at all is refused, not tried. */
        EXPECT(xipc_rpc_client_connect_timeout("127.0.0.1", ntohs(sa.sin_port), PROG, 1, "tcp", anon,
                                             XIPC_NO_WAIT, &c) == XIPC_EINVAL);
        xipc_tls_config_free(anon);
        close(silent);
    }
    /* A cleartext call on the TLS listener: AUTH_ERROR (AUTH_TOOWEAK). The
     * timed connect without a TLS configuration (NULL) is a cleartext one. */
    CHECK(xipc_rpc_client_connect_timeout("127.0.0.1", port, PROG, 1, "tcp", NULL, 20000, &c));
    CHECK(xipc_rpc_client_set_timeout(c, 20000));
    EXPECT(xipc_rpc_client_call(c, 1, NULL, 0, &reply, &reply_len) == XIPC_EAUTH);
    xipc_rpc_client_close(c);

    /* A listener's certificate replaced while it serves: new handshakes
     * use the new one, a session set up before goes on. */
    xipc_tls_options ro;
    memset(&ro, 0, sizeof ro);
    ro.policy = "tls";
    ro.cert_file = cert_path("server.pem");
    ro.key_file = cert_path("server.key");
    xipc_tls_config *rotating = NULL;
    CHECK(xipc_tls_config_new(&ro, &rotating));
    CHECK(xipc_rpc_server_register(s, PROG, 2, 1, echo, NULL));
    uint16_t rport = 0;
    CHECK(xipc_rpc_server_listen_tcp_tls(s, "127.0.0.1", 0, rotating, &rport));
    xipc_tls_config *trusts_ca = config_files("tls", "ca.pem", NULL, NULL);
    xipc_tls_config *trusts_other = config_files("tls", "other-ca.pem", NULL, NULL);
    xipc_rpc_client *before = NULL;
    CHECK(xipc_rpc_client_connect_tls("127.0.0.1", rport, PROG, 2, "tcp", trusts_ca, &before));
    CHECK(xipc_rpc_client_set_timeout(before, 20000));
    EXPECT(answered(rport, trusts_ca) && !answered(rport, trusts_other));
    ro.cert_file = cert_path("stranger.pem"); /* by the other CA */
    ro.key_file = cert_path("stranger.key");
    CHECK(xipc_tls_config_replace(rotating, &ro));
    EXPECT(answered(rport, trusts_other) && !answered(rport, trusts_ca));
    CHECK(xipc_rpc_client_call(before, 1, NULL, 0, &reply, &reply_len));
    xipc_bytes_free(reply, reply_len);
    CHECK(xipc_tls_config_reload(rotating)); /* the same files, read again */
    EXPECT(answered(rport, trusts_other));
    /* A replacement that fails changes nothing. */
    ro.key_file = cert_path("server.key"); /* not the certificate's key */
    EXPECT(xipc_tls_config_replace(rotating, &ro) == XIPC_EINVAL);
    EXPECT(strstr(xipc_last_error(), "does not belong") != NULL);
    ro.key_file = cert_path("stranger.key");
    ro.policy = "mtls";
    ro.ca_file = cert_path("ca.pem");
    EXPECT(xipc_tls_config_replace(rotating, &ro) == XIPC_EINVAL); /* the policy stays */
    EXPECT(answered(rport, trusts_other) && !answered(rport, trusts_ca));
    EXPECT(xipc_tls_config_reload(NULL) == XIPC_EINVAL);
    EXPECT(xipc_tls_config_replace(rotating, NULL) == XIPC_EINVAL);
    xipc_rpc_client_close(before);
    xipc_tls_config_free(rotating);
    xipc_tls_config_free(trusts_ca);
    xipc_tls_config_free(trusts_other);

    /* A revocation list: the certificate it names is refused. */
    xipc_tls_options co;
    memset(&co, 0, sizeof co);
    co.policy = "mtls";
    co.ca_file = cert_path("ca.pem");
    co.cert_file = cert_path("server.pem");
    co.key_file = cert_path("server.key");
    co.crl_file = cert_path("ca.crl.pem");
    xipc_tls_config *with_crl = NULL;
    CHECK(xipc_tls_config_new(&co, &with_crl));
    uint16_t cport = 0;
    CHECK(xipc_rpc_server_listen_tcp_tls(s, "127.0.0.1", 0, with_crl, &cport));
    xipc_tls_config *client_1 = config_files("mtls", "ca.pem", "client.pem", "client.key");
    xipc_tls_config *revoked = config_files("mtls", "ca.pem", "revoked.pem", "revoked.key");
    EXPECT(answered(cport, client_1));
    /* TLS 1.3: the refusal may come with the first call (answered's call
     * fails the test on anything but a TLS error at the connect; so call
     * by hand). */
    int crc = xipc_rpc_client_connect_tls("127.0.0.1", cport, PROG, 2, "tcp", revoked, &c);
    if (crc == 0) {
        crc = xipc_rpc_client_call(c, 1, NULL, 0, &reply, &reply_len);
        xipc_rpc_client_close(c);
    }
    EXPECT(crc == XIPC_ETLS);
    co.ca_file = cert_path("ca.pem"); /* (cert_path's buffers are reused) */
    co.cert_file = cert_path("server.pem");
    co.key_file = cert_path("server.key");
    co.crl_file = cert_path("ca.pem"); /* no revocation list in it */
    xipc_tls_config *t2 = NULL;
    EXPECT(xipc_tls_config_new(&co, &t2) == XIPC_EINVAL && t2 == NULL);
    EXPECT(strstr(xipc_last_error(), "no revocation list") != NULL);
    xipc_tls_config_free(with_crl);
    xipc_tls_config_free(client_1);
    xipc_tls_config_free(revoked);

    /* Bad configurations fail when made, not at the first call. */
    xipc_tls_options bad;
    memset(&bad, 0, sizeof bad);
    xipc_tls_config *t = NULL;
    bad.ca_file = "/nonexistent/ca.pem";
    EXPECT(xipc_tls_config_new(&bad, &t) == XIPC_ENOENT && t == NULL);
    bad.ca_file = cert_path("ca.pem");
    bad.ca_pem = (const uint8_t *)"x";
    bad.ca_pem_len = 1;
    EXPECT(xipc_tls_config_new(&bad, &t) == XIPC_EINVAL); /* file and bytes */
    memset(&bad, 0, sizeof bad);
    bad.policy = "mtls";
    bad.ca_file = cert_path("ca.pem");
    bad.cert_file = cert_path("server.pem");
    bad.key_file = cert_path("client.key"); /* not the certificate's key */
    EXPECT(xipc_tls_config_new(&bad, &t) == XIPC_EINVAL);
    bad.key_file = cert_path("server.key");
    bad.policy = "sometimes";
    EXPECT(xipc_tls_config_new(&bad, &t) == XIPC_EINVAL);

    CHECK(xipc_rpc_server_close(s));
    printf("rpc_tls: ok\n");
    return 0;
}
