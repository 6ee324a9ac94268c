/* Linked lists in generated C (tests/gen/lists.x), run by tests/idl_lists.rs
 * under valgrind: lists of 10,000 nodes encode to the bytes written here by
 * hand and decode back with the default limits; a cut list, a list past the
 * allocation limit, a list under a depth limit of 0 and a tree past the
 * depth limit fail, and each prints its status and message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists.h"

#define N 10000

#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: expected %s (last error: %s)\n", __FILE__,    \
                    __LINE__, #cond, xipc_last_error());                          \
            exit(1);                                                              \
        }                                                                         \
    } while (0)
#define CHECK(expr) EXPECT((expr) == 0)

/* Expected bytes, written by hand. */
struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void put32(struct buf *b, uint32_t v)
{
    if (b->len + 4 > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->p = realloc(b->p, b->cap);
        EXPECT(b->p != NULL);
    }
    b->p[b->len++] = (unsigned char)(v >> 24);
    b->p[b->len++] = (unsigned char)(v >> 16);
    b->p[b->len++] = (unsigned char)(v >> 8);
    b->p[b->len++] = (unsigned char)v;
}

/* A string of up to 8 bytes: its length, then the bytes padded. */
static void put_str(struct buf *b, const char *s)
{
    size_t n = strlen(s), i;
    unsigned char w[8] = {0};
    put32(b, (uint32_t)n);
    memcpy(w, s, n);
    for (i = 0; i < (n + 3) / 4; i++)
        put32(b, (uint32_t)w[4 * i] << 24 | (uint32_t)w[4 * i + 1] << 16 |
                     (uint32_t)w[4 * i + 2] << 8 | w[4 * i + 3]);
}

static const char *NAMES[7] = {"", "n", "nn", "nnn", "nnnn", "nnnnn", "nnnnnn"};

static void entries_xdr(struct buf *b, unsigned n)
{
    unsigned i;
    for (i = 0; i < n; i++) {
        put32(b, i);
        put_str(b, NAMES[i % 7]);
        put32(b, i + 1 < n);
    }
}

static size_t entries_len(unsigned n)
{
    struct buf b = {0};
    size_t len;
    entries_xdr(&b, n);
    len = b.len;
    free(b.p);
    return len;
}

static xipc_decoder *decoder(const struct buf *b, size_t len, const xipc_limits *limits)
{
    xipc_decoder *d;
    CHECK(xipc_decoder_new(b->p, len, limits, &d));
    return d;
}

/* `e` holds exactly the bytes of `b`. */
static void same_bytes(xipc_encoder *e, const struct buf *b)
{
    const uint8_t *data;
    size_t len;
    CHECK(xipc_encoder_data(e, &data, &len));
    EXPECT(len == b->len);
    EXPECT(memcmp(data, b->p, len) == 0);
}

static void entries(void)
{
    entry *head = NULL, *node, back;
    struct buf b = {0};
    xipc_encoder *e;
    xipc_decoder *d;
    dirlist dir, dir_back;
    unsigned i;

    for (i = N; i-- > 0;) {
        node = calloc(1, sizeof *node);
        EXPECT(node != NULL);
        node->fileid = i;
        node->name = strdup(NAMES[i % 7]);
        node->next = head;
        head = node;
    }
    entries_xdr(&b, N);
    CHECK(xipc_encoder_new(&e));
    CHECK(xipc_encode_entry(e, head));
    same_bytes(e, &b);

    d = decoder(&b, b.len, NULL);
    CHECK(xipc_decode_entry(d, &back));
    CHECK(xipc_decoder_finish(d));
    xipc_decoder_free(d);
    for (i = 0, node = &back; i < N; i++, node = node->next) {
        EXPECT(node != NULL);
        EXPECT(node->fileid == i && strcmp(node->name, NAMES[i % 7]) == 0);
    }
    EXPECT(node == NULL);
    CHECK(xipc_encoder_reset(e));
    CHECK(xipc_encode_entry(e, &back));
    same_bytes(e, &b);
    xipc_free_entry(&back);
    EXPECT(back.next == NULL && back.name == NULL);

    /* Inside a struct, with a field after it. */
    dir.entries = head;
    dir.eof = 1;
    free(b.p);
    memset(&b, 0, sizeof b);
    put32(&b, 1);
    entries_xdr(&b, N);
    put32(&b, 1);
    CHECK(xipc_encoder_reset(e));
    CHECK(xipc_encode_dirlist(e, &dir));
    same_bytes(e, &b);
    d = decoder(&b, b.len, NULL);
    CHECK(xipc_decode_dirlist(d, &dir_back));
    CHECK(xipc_decoder_finish(d));
    xipc_decoder_free(d);
    EXPECT(dir_back.eof == 1);
    CHECK(xipc_encoder_reset(e));
    CHECK(xipc_encode_dirlist(e, &dir_back));
    same_bytes(e, &b);
    xipc_free_dirlist(&dir_back);
    xipc_free_dirlist(&dir);
    xipc_encoder_free(e);
    free(b.p);
    printf("entries: ok\n");
}

static void pmaps(void)
{
    pmaplist *head = NULL, *node, back;
    struct buf b = {0};
    xipc_encoder *e;
    xipc_decoder *d;
    unsigned i;

    for (i = N; i-- > 0;) {
        node = calloc(1, sizeof *node);
        EXPECT(node != NULL);
        node->map.prog = 100000 + i;
        node->map.vers = i % 4;
        node->map.prot = 6;
        node->map.port = i;
        node->next = head;
        head = node;
    }
    for (i = 0; i < N; i++) {
        put32(&b, 100000 + i);
        put32(&b, i % 4);
        put32(&b, 6);
        put32(&b, i);
        put32(&b, i + 1 < N);
    }
    CHECK(xipc_encoder_new(&e));
    CHECK(xipc_encode_pmaplist(e, head));
    same_bytes(e, &b);
    d = decoder(&b, b.len, NULL);
    CHECK(xipc_decode_pmaplist(d, &back));
    CHECK(xipc_decoder_finish(d));
    xipc_decoder_free(d);
    for (i = 0, node = &back; i < N; i++, node = node->next) {
        EXPECT(node != NULL);
        EXPECT(node->map.prog == 100000 + i && node->map.port == i);
    }
    EXPECT(node == NULL);
    xipc_free_pmaplist(&back);
    xipc_free_pmaplist(head);
    free(head);
    xipc_encoder_free(e);
    free(b.p);
    printf("pmaplist: ok\n");
}

static void rpcbs(void)
{
    rpcblist_ptr head = NULL, node, back;
    struct buf b = {0};
    xipc_encoder *e;
    xipc_decoder *d;
    unsigned i;

    for (i = N; i-- > 0;) {
        node = calloc(1, sizeof *node);
        EXPECT(node != NULL);
        node->r_netid = strdup(i % 2 ? "udp6" : "tcp");
        node->r_prog = i;
        node->rpcb_next = head;
        head = node;
    }
    for (i = 0; i < N; i++) {
        put32(&b, 1);
        put_str(&b, i % 2 ? "udp6" : "tcp");
        put32(&b, i);
    }
    put32(&b, 0);
    CHECK(xipc_encoder_new(&e));
    CHECK(xipc_encode_rpcblist_ptr(e, &head));
    same_bytes(e, &b);
    d = decoder(&b, b.len, NULL);
    CHECK(xipc_decode_rpcblist_ptr(d, &back));
    CHECK(xipc_decoder_finish(d));
    xipc_decoder_free(d);
    for (i = 0, node = back; i < N; i++, node = node->rpcb_next) {
        EXPECT(node != NULL);
        EXPECT(node->r_prog == i && strcmp(node->r_netid, i % 2 ? "udp6" : "tcp") == 0);
    }
    EXPECT(node == NULL);
    xipc_free_rpcblist_ptr(&back);
    EXPECT(back == NULL);
    xipc_free_rpcblist_ptr(&head);
    xipc_encoder_free(e);
    free(b.p);
    printf("rpcblist_ptr: ok\n");
}

/* Decodes `len` bytes of `b` as an entry under `limits`; prints the status
 * and message; the value must come back empty. */
static void entry_fails(const char *what, const struct buf *b, size_t len,
                        const xipc_limits *limits)
{
    entry v;
    xipc_decoder *d = decoder(b, len, limits);
    int rc = xipc_decode_entry(d, &v);
    /* (Not in one call: arguments are evaluated in any order.) */
    printf("%s: %d %s\n", what, rc, xipc_last_error());
    EXPECT(v.next == NULL && v.name == NULL);
    xipc_decoder_free(d);
}

static void failures(void)
{
    struct buf b = {0};
    xipc_limits limits = xipc_limits_default();
    xipc_decoder *d;
    pmaplist p;
    tree t;
    size_t at = entries_len(50);
    unsigned i;
    int rc;

    entries_xdr(&b, 100);
    entry_fails("cut in a count", &b, at + 6, NULL);
    entry_fails("cut after a flag", &b, at, NULL);
    b.p[at - 1] = 2;
    entry_fails("flag 2", &b, b.len, NULL);
    free(b.p);

    memset(&b, 0, sizeof b);
    entries_xdr(&b, 3);
    limits.max_depth = 0;
    entry_fails("depth 0", &b, b.len, &limits);
    free(b.p);

    memset(&b, 0, sizeof b);
    for (i = 0; i < 200000; i++) {
        put32(&b, i);
        put32(&b, 1);
        put32(&b, 17);
        put32(&b, 111);
        put32(&b, i + 1 < 200000);
    }
    limits = xipc_limits_default();
    limits.max_alloc = 1 << 20;
    d = decoder(&b, b.len, &limits);
    rc = xipc_decode_pmaplist(d, &p);
    printf("1 MiB budget: %d %s\n", rc, xipc_last_error());
    EXPECT(p.next == NULL);
    xipc_decoder_free(d);
    free(b.p);

    /* A tree leaning left, 66 levels deep. */
    memset(&b, 0, sizeof b);
    for (i = 0; i < 66; i++) {
        put32(&b, i);
        put32(&b, i + 1 < 66);
    }
    for (i = 0; i < 66; i++)
        put32(&b, 0);
    d = decoder(&b, b.len, NULL);
    rc = xipc_decode_tree(d, &t);
    printf("tree of 66: %d %s\n", rc, xipc_last_error());
    EXPECT(t.left == NULL);
    xipc_decoder_free(d);
    limits = xipc_limits_default();
    limits.max_depth = 65;
    d = decoder(&b, b.len, &limits);
    CHECK(xipc_decode_tree(d, &t));
    CHECK(xipc_decoder_finish(d));
    xipc_decoder_free(d);
    xipc_free_tree(&t);
    free(b.p);
}

int main(void)
{
    entries();
    pmaps();
    rpcbs();
    failures();
    return 0;
}
