/* Every XDR type through the C API: exact bytes out, the same values back. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc.h"

static int failures;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__, \
                    __LINE__, #cond, xipc_last_error());                            \
            failures++;                                                             \
        }                                                                           \
    } while (0)

#define OK(call) CHECK((call) == XIPC_OK)

/* Compares the encoder's bytes with `hex` (spaces ignored), then empties it. */
static void expect_bytes(xipc_encoder *enc, const char *hex, int line) {
    uint8_t want[256];
    size_t n = 0;
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        if (sscanf(p, "%2x", &v) != 1) {
            fprintf(stderr, "bad hex in test at line %d\n", line);
            exit(2);
        }
        want[n++] = (uint8_t)v;
        p += 2;
    }
    const uint8_t *data = NULL;
    size_t len = 0;
    OK(xipc_encoder_data(enc, &data, &len));
    if (len != n || memcmp(data, want, n) != 0) {
        fprintf(stderr, "line %d: expected %s, got ", line, hex);
        for (size_t i = 0; i < len; i++) fprintf(stderr, "%02x", data[i]);
        fprintf(stderr, "\n");
        failures++;
    }
    OK(xipc_encoder_reset(enc));
}

#define EXPECT(enc, hex) expect_bytes((enc), (hex), __LINE__)

static void test_scalars(xipc_encoder *enc) {
    OK(xipc_encoder_put_int(enc, -2));
    OK(xipc_encoder_put_int(enc, INT32_MIN));
    EXPECT(enc, "fffffffe 80000000");
    OK(xipc_encoder_put_uint(enc, UINT32_MAX));
    OK(xipc_encoder_put_enum(enc, 2));
    EXPECT(enc, "ffffffff 00000002");
    OK(xipc_encoder_put_bool(enc, true));
    OK(xipc_encoder_put_bool(enc, false));
    EXPECT(enc, "00000001 00000000");
    OK(xipc_encoder_put_hyper(enc, -3));
    OK(xipc_encoder_put_uhyper(enc, 0x0102030405060708ULL));
    EXPECT(enc, "ffffffff fffffffd 01020304 05060708");
    OK(xipc_encoder_put_float(enc, 1.5f));
    OK(xipc_encoder_put_double(enc, -2.0));
    EXPECT(enc, "3fc00000 c0000000 00000000");
    OK(xipc_encoder_put_float(enc, INFINITY));
    OK(xipc_encoder_put_double(enc, -0.0));
    EXPECT(enc, "7f800000 80000000 00000000");
    uint8_t quad[16];
    for (int i = 0; i < 16; i++) quad[i] = (uint8_t)(0xa0 + i);
    OK(xipc_encoder_put_quadruple(enc, quad));
    EXPECT(enc, "a0a1a2a3 a4a5a6a7 a8a9aaab acadaeaf");

    OK(xipc_encoder_put_int(enc, INT32_MAX));
    OK(xipc_encoder_put_uint(enc, 7));
    OK(xipc_encoder_put_enum(enc, -1));
    OK(xipc_encoder_put_bool(enc, true));
    OK(xipc_encoder_put_hyper(enc, INT64_MIN));
    OK(xipc_encoder_put_uhyper(enc, UINT64_MAX));
    OK(xipc_encoder_put_float(enc, -0.25f));
    OK(xipc_encoder_put_double(enc, 3.5));
    OK(xipc_encoder_put_quadruple(enc, quad));
    const uint8_t *data;
    size_t len;
    OK(xipc_encoder_data(enc, &data, &len));
    CHECK(len == 4 * 4 + 8 * 2 + 4 + 8 + 16);

    xipc_decoder *dec = NULL;
    OK(xipc_decoder_new(data, len, NULL, &dec));
    int32_t i32;
    uint32_t u32;
    bool b;
    int64_t i64;
    uint64_t u64;
    float f;
    double d;
    uint8_t q[16];
    OK(xipc_decoder_get_int(dec, &i32));
    CHECK(i32 == INT32_MAX);
    OK(xipc_decoder_get_uint(dec, &u32));
    CHECK(u32 == 7);
    OK(xipc_decoder_get_enum(dec, &i32));
    CHECK(i32 == -1);
    OK(xipc_decoder_get_bool(dec, &b));
    CHECK(b);
    OK(xipc_decoder_get_hyper(dec, &i64));
    CHECK(i64 == INT64_MIN);
    OK(xipc_decoder_get_uhyper(dec, &u64));
    CHECK(u64 == UINT64_MAX);
    OK(xipc_decoder_get_float(dec, &f));
    CHECK(f == -0.25f);
    OK(xipc_decoder_get_double(dec, &d));
    CHECK(d == 3.5);
    OK(xipc_decoder_get_quadruple(dec, q));
    CHECK(memcmp(q, quad, 16) == 0);
    size_t pos = 0, rest = 1;
    OK(xipc_decoder_position(dec, &pos));
    OK(xipc_decoder_remaining(dec, &rest));
    CHECK(pos == len && rest == 0);
    OK(xipc_decoder_finish(dec));
    OK(xipc_decoder_set_position(dec, 8));
    OK(xipc_decoder_get_enum(dec, &i32));
    CHECK(i32 == -1);
    xipc_decoder_free(dec);
    OK(xipc_encoder_reset(enc));
}

static void test_opaque_and_strings(xipc_encoder *enc) {
    /* Lengths 0 to 4: padding to a multiple of 4. */
    OK(xipc_encoder_put_opaque(enc, (const uint8_t *)"", 0));
    OK(xipc_encoder_put_opaque(enc, (const uint8_t *)"a", 1));
    OK(xipc_encoder_put_opaque(enc, (const uint8_t *)"ab", 2));
    OK(xipc_encoder_put_opaque(enc, (const uint8_t *)"abc", 3));
    OK(xipc_encoder_put_opaque(enc, (const uint8_t *)"abcd", 4));
    EXPECT(enc, "00000000 00000001 61000000 00000002 61620000 00000003 61626300"
                " 00000004 61626364");
    OK(xipc_encoder_put_fixed_opaque(enc, (const uint8_t *)"xyzuv", 5));
    OK(xipc_encoder_put_fixed_opaque(enc, NULL, 0));
    EXPECT(enc, "78797a75 76000000");
    OK(xipc_encoder_put_string(enc, "sillyprog"));
    OK(xipc_encoder_put_string_n(enc, "lisp and more", 4));
    EXPECT(enc, "00000009 73696c6c 7970726f 67000000 00000004 6c697370");
    OK(xipc_encoder_put_raw(enc, (const uint8_t *)"\x01\x02\x03\x04", 4));
    EXPECT(enc, "01020304");

    OK(xipc_encoder_put_string(enc, "john"));
    OK(xipc_encoder_put_opaque(enc, (const uint8_t *)"(quit)", 6));
    OK(xipc_encoder_put_fixed_opaque(enc, (const uint8_t *)"xyz", 3));
    OK(xipc_encoder_put_string(enc, "hello"));
    OK(xipc_encoder_put_string(enc, "abc"));
    uint8_t *owned = NULL;
    size_t len = 0;
    OK(xipc_encoder_take(enc, &owned, &len));
    CHECK(len == 8 + 12 + 4 + 12 + 8);
    const uint8_t *left;
    size_t left_len = 99;
    OK(xipc_encoder_data(enc, &left, &left_len));
    CHECK(left_len == 0); /* take empties the encoder */

    xipc_decoder *dec = NULL;
    OK(xipc_decoder_new(owned, len, NULL, &dec));
    char name[16];
    size_t n = 0;
    OK(xipc_decoder_get_string(dec, 255, name, sizeof name, &n));
    CHECK(n == 4 && strcmp(name, "john") == 0);
    const uint8_t *ref;
    OK(xipc_decoder_get_opaque_ref(dec, 65535, &ref, &n));
    CHECK(n == 6 && memcmp(ref, "(quit)", 6) == 0 && ref == owned + 12);
    uint8_t fixed[3];
    OK(xipc_decoder_get_fixed_opaque(dec, fixed, 3));
    CHECK(memcmp(fixed, "xyz", 3) == 0);
    /* Too small a buffer: XIPC_EMSGSIZE, no output written, no movement;
     * the message says what was needed. */
    char tiny[5];
    size_t before, after;
    OK(xipc_decoder_position(dec, &before));
    n = 12345;
    CHECK(xipc_decoder_get_string(dec, UINT32_MAX, tiny, sizeof tiny, &n) == XIPC_EMSGSIZE);
    CHECK(n == 12345);
    CHECK(strcmp(xipc_last_error(), "6 bytes, at most 5 allowed") == 0);
    OK(xipc_decoder_position(dec, &after));
    CHECK(before == after);
    const char *sref;
    OK(xipc_decoder_get_string_ref(dec, UINT32_MAX, &sref, &n));
    CHECK(n == 5 && memcmp(sref, "hello", 5) == 0);
    uint8_t buf[8];
    OK(xipc_decoder_get_opaque(dec, 3, buf, sizeof buf, &n));
    CHECK(n == 3 && memcmp(buf, "abc", 3) == 0);
    OK(xipc_decoder_finish(dec));
    xipc_decoder_free(dec);
    xipc_bytes_free(owned, len);
}

/* A struct with an optional pointer, a union and a counted array, by hand. */
static void test_compound(xipc_encoder *enc) {
    /* struct node { int v; node *next; } for the list 5 -> 6 */
    OK(xipc_encoder_put_int(enc, 5));
    OK(xipc_encoder_put_optional(enc, true));
    OK(xipc_encoder_put_int(enc, 6));
    OK(xipc_encoder_put_optional(enc, false));
    /* union switch (int k) { case 1: unsigned hyper; default: void } with k = 1, then k = 9 */
    OK(xipc_encoder_put_int(enc, 1));
    OK(xipc_encoder_put_uhyper(enc, 42));
    OK(xipc_encoder_put_int(enc, 9));
    /* string names<> of two strings */
    OK(xipc_encoder_put_count(enc, 2));
    OK(xipc_encoder_put_string(enc, "a"));
    OK(xipc_encoder_put_string(enc, "bc"));
    const uint8_t *data;
    size_t len;
    OK(xipc_encoder_data(enc, &data, &len));
    static const uint8_t want[] = {0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0,
                                   0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 9,
                                   0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 0, 0, 2,
                                   'b', 'c', 0, 0};
    CHECK(len == sizeof want && memcmp(data, want, len) == 0);

    xipc_decoder *dec = NULL;
    OK(xipc_decoder_new(data, len, NULL, &dec));
    int32_t v, k;
    bool more;
    int sum = 0;
    do {
        OK(xipc_decoder_enter(dec));
        OK(xipc_decoder_get_int(dec, &v));
        sum += v;
        OK(xipc_decoder_get_optional(dec, &more));
    } while (more);
    OK(xipc_decoder_leave(dec));
    OK(xipc_decoder_leave(dec));
    CHECK(sum == 11);
    uint64_t arm;
    OK(xipc_decoder_get_int(dec, &k));
    CHECK(k == 1);
    OK(xipc_decoder_get_uhyper(dec, &arm));
    CHECK(arm == 42);
    OK(xipc_decoder_get_int(dec, &k));
    CHECK(k == 9);
    size_t count = 0;
    OK(xipc_decoder_get_count(dec, 10, 4, &count));
    CHECK(count == 2);
    OK(xipc_decoder_charge(dec, count * sizeof(char *)));
    for (size_t i = 0; i < count; i++) {
        const char *s;
        size_t n;
        OK(xipc_decoder_get_string_ref(dec, 8, &s, &n));
        CHECK(n == i + 1);
    }
    OK(xipc_decoder_finish(dec));
    xipc_decoder_free(dec);
    OK(xipc_encoder_reset(enc));
}

static void test_bulk(xipc_encoder *enc) {
    const int32_t ints[] = {1, -1};
    const uint32_t uints[] = {0xdeadbeef};
    const int64_t hypers[] = {-2};
    const uint64_t uhypers[] = {0x1122334455667788ULL};
    const float floats[] = {1.0f, -0.0f};
    const double doubles[] = {0.5};
    OK(xipc_encoder_put_int_vector(enc, ints, 2));
    OK(xipc_encoder_put_int_array(enc, ints, 2));
    EXPECT(enc, "00000001 ffffffff 00000002 00000001 ffffffff");
    OK(xipc_encoder_put_uint_vector(enc, uints, 1));
    OK(xipc_encoder_put_uint_array(enc, uints, 1));
    EXPECT(enc, "deadbeef 00000001 deadbeef");
    OK(xipc_encoder_put_hyper_vector(enc, hypers, 1));
    OK(xipc_encoder_put_hyper_array(enc, hypers, 1));
    EXPECT(enc, "ffffffff fffffffe 00000001 ffffffff fffffffe");
    OK(xipc_encoder_put_uhyper_vector(enc, uhypers, 1));
    OK(xipc_encoder_put_uhyper_array(enc, NULL, 0));
    EXPECT(enc, "11223344 55667788 00000000");
    OK(xipc_encoder_put_float_vector(enc, floats, 2));
    OK(xipc_encoder_put_float_array(enc, floats, 1));
    EXPECT(enc, "3f800000 80000000 00000001 3f800000");
    OK(xipc_encoder_put_double_vector(enc, doubles, 1));
    OK(xipc_encoder_put_double_array(enc, doubles, 1));
    EXPECT(enc, "3fe00000 00000000 00000001 3fe00000 00000000");

    /* Decoding every bulk type back. */
    enum { N = 1000 };
    static double many[N], back[N];
    static int64_t hy[N], hyback[N];
    for (int i = 0; i < N; i++) {
        many[i] = i * 0.25 - 100.0;
        hy[i] = (int64_t)i * -1000003;
    }
    OK(xipc_encoder_put_double_array(enc, many, N));
    OK(xipc_encoder_put_hyper_vector(enc, hy, N));
    OK(xipc_encoder_put_int_array(enc, ints, 2));
    OK(xipc_encoder_put_uint_vector(enc, uints, 1));
    OK(xipc_encoder_put_uhyper_array(enc, uhypers, 1));
    OK(xipc_encoder_put_float_vector(enc, floats, 2));
    const uint8_t *data;
    size_t len;
    OK(xipc_encoder_data(enc, &data, &len));
    xipc_decoder *dec;
    OK(xipc_decoder_new(data, len, NULL, &dec));
    size_t n = 12345;
    /* Too small: XIPC_EMSGSIZE, *n untouched, the decoder does not move;
     * xipc_decoder_get_count reads the count alone. */
    CHECK(xipc_decoder_get_double_array(dec, UINT32_MAX, back, 10, &n) == XIPC_EMSGSIZE);
    CHECK(n == 12345);
    /* The message counts elements, as `cap` does (not bytes). */
    CHECK(strcmp(xipc_last_error(), "1000 elements, at most 10 allowed") == 0);
    size_t start, count;
    OK(xipc_decoder_position(dec, &start));
    OK(xipc_decoder_get_count(dec, UINT32_MAX, 8, &count));
    CHECK(count == N);
    OK(xipc_decoder_set_position(dec, start));
    /* More than the bound: a limit error. */
    CHECK(xipc_decoder_get_double_array(dec, 999, back, N, &n) == XIPC_ELIMIT);
    OK(xipc_decoder_get_double_array(dec, N, back, N, &n));
    CHECK(n == N && memcmp(many, back, sizeof many) == 0);
    OK(xipc_decoder_get_hyper_vector(dec, hyback, N));
    CHECK(memcmp(hy, hyback, sizeof hy) == 0);
    int32_t i2[2];
    uint32_t u1;
    uint64_t uh[4];
    float f2[2];
    OK(xipc_decoder_get_int_array(dec, 2, i2, 2, &n));
    CHECK(n == 2 && i2[0] == 1 && i2[1] == -1);
    OK(xipc_decoder_get_uint_vector(dec, &u1, 1));
    CHECK(u1 == 0xdeadbeef);
    OK(xipc_decoder_get_uhyper_array(dec, UINT32_MAX, uh, 4, &n));
    CHECK(n == 1 && uh[0] == uhypers[0]);
    OK(xipc_decoder_get_float_vector(dec, f2, 2));
    CHECK(f2[0] == 1.0f && f2[1] == 0.0f && signbit(f2[1]));
    OK(xipc_decoder_finish(dec));
    xipc_decoder_free(dec);
    OK(xipc_encoder_reset(enc));

    /* The stateless converters. */
    uint8_t out[16];
    OK(xipc_xdr_encode_doubles(doubles, 1, out, 8));
    CHECK(memcmp(out, "\x3f\xe0\0\0\0\0\0\0", 8) == 0);
    double d;
    OK(xipc_xdr_decode_doubles(out, 8, &d, 1));
    CHECK(d == 0.5);
    OK(xipc_xdr_encode_ints(ints, 2, out, 8));
    CHECK(memcmp(out, "\0\0\0\1\xff\xff\xff\xff", 8) == 0);
    int32_t ib[2];
    OK(xipc_xdr_decode_ints(out, 8, ib, 2));
    CHECK(ib[0] == 1 && ib[1] == -1);
    OK(xipc_xdr_encode_uints(uints, 1, out, 4));
    uint32_t ub;
    OK(xipc_xdr_decode_uints(out, 4, &ub, 1));
    CHECK(memcmp(out, "\xde\xad\xbe\xef", 4) == 0 && ub == uints[0]);
    OK(xipc_xdr_encode_hypers(hypers, 1, out, 8));
    int64_t hb;
    OK(xipc_xdr_decode_hypers(out, 8, &hb, 1));
    CHECK(hb == -2 && out[7] == 0xfe);
    OK(xipc_xdr_encode_uhypers(uhypers, 1, out, 8));
    uint64_t uhb;
    OK(xipc_xdr_decode_uhypers(out, 8, &uhb, 1));
    CHECK(uhb == uhypers[0] && out[0] == 0x11);
    OK(xipc_xdr_encode_floats(floats, 2, out, 8));
    float fb[2];
    OK(xipc_xdr_decode_floats(out, 8, fb, 2));
    CHECK(fb[0] == 1.0f && out[0] == 0x3f && out[4] == 0x80);
    /* A buffer of the wrong size is refused. */
    CHECK(xipc_xdr_encode_doubles(doubles, 1, out, 7) == XIPC_EINVAL);
    CHECK(xipc_xdr_decode_floats(out, 7, fb, 2) == XIPC_EINVAL);
}

int main(void) {
    xipc_encoder *enc = NULL;
    OK(xipc_encoder_new(&enc));
    if (!enc) return 1;
    test_scalars(enc);
    test_opaque_and_strings(enc);
    test_compound(enc);
    test_bulk(enc);
    xipc_encoder_free(enc);
    if (failures) {
        fprintf(stderr, "xdr_types: %d checks failed\n", failures);
        return 1;
    }
    printf("xdr_types: all checks passed\n");
    return 0;
}
