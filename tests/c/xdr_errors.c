/* Errors of the C XDR API: status codes and messages, NULL arguments,
 * hostile input, limits, and the header and library versions. */

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

/* `call` returns `code` and the thread's last error contains `text`. */
#define FAILS(call, code, text)                                                        \
    do {                                                                               \
        int rc_ = (call);                                                              \
        if (rc_ != (code) || strstr(xipc_last_error(), (text)) == NULL) {              \
            fprintf(stderr, "%s:%d: %s returned %d (%s), wanted %d with \"%s\"\n",     \
                    __FILE__, __LINE__, #call, rc_, xipc_last_error(), (code), (text)); \
            failures++;                                                                \
        }                                                                              \
    } while (0)

static void test_version(void) {
    CHECK(strcmp(xipc_version(), XIPC_VERSION_STRING) == 0);
    char assembled[32];
    snprintf(assembled, sizeof assembled, "%d.%d.%d", XIPC_VERSION_MAJOR, XIPC_VERSION_MINOR,
             XIPC_VERSION_PATCH);
    CHECK(strcmp(assembled, XIPC_VERSION_STRING) == 0);
}

static void test_status_names(void) {
    CHECK(strcmp(xipc_strerror(XIPC_OK), "success") == 0);
    CHECK(strcmp(xipc_strerror(XIPC_EINVAL), "invalid argument") == 0);
    CHECK(strcmp(xipc_strerror(XIPC_EMSGSIZE), "message too large") == 0);
    CHECK(strcmp(xipc_strerror(XIPC_EXDR), "malformed XDR") == 0);
    CHECK(strcmp(xipc_strerror(XIPC_ELIMIT), "limit exceeded") == 0);
    CHECK(strcmp(xipc_strerror(XIPC_EOS), "operating-system error") == 0);
    CHECK(strcmp(xipc_strerror(XIPC_EINTERNAL), "internal error") == 0);
    CHECK(strcmp(xipc_strerror(12345), "unknown status code") == 0);
    CHECK(strcmp(xipc_strerror(-39), "unknown status code") == 0);
    /* The stable values. */
    CHECK(XIPC_EINVAL == -1 && XIPC_EMSGSIZE == -4 && XIPC_EXDR == -9 && XIPC_ELIMIT == -10);
    CHECK(XIPC_EOS == -30 && XIPC_EINTERNAL == -31);
    /* No XDR error is an OS error. */
    uint8_t one = 1;
    xipc_decoder *dec;
    OK(xipc_decoder_new(&one, 1, NULL, &dec));
    int32_t v;
    FAILS(xipc_decoder_get_int(dec, &v), XIPC_EXDR, "at byte 0");
    /* The message is the detail alone: printed after the status name, as
     * "%s: %s", it does not say the name twice. */
    CHECK(strcmp(xipc_last_error(), "at byte 0: int needs 4 bytes but only 1 remain") == 0);
    CHECK(xipc_last_os_error() == 0);
    xipc_decoder_free(dec);
}

static void test_null_arguments(void) {
    xipc_encoder *enc;
    OK(xipc_encoder_new(&enc));
    uint8_t bytes[16] = {0};
    xipc_decoder *dec;
    OK(xipc_decoder_new(bytes, sizeof bytes, NULL, &dec));
    const uint8_t *data;
    uint8_t *owned;
    size_t len;
    int32_t i32;
    uint32_t u32;
    bool b;
    int64_t i64;
    uint64_t u64;
    float f;
    double d;
    const char *s;

    FAILS(xipc_encoder_new(NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_encoder_reset(NULL), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_data(NULL, &data, &len), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_data(enc, NULL, &len), XIPC_EINVAL, "data is NULL");
    FAILS(xipc_encoder_data(enc, &data, NULL), XIPC_EINVAL, "len is NULL");
    FAILS(xipc_encoder_take(NULL, &owned, &len), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_take(enc, NULL, &len), XIPC_EINVAL, "data is NULL");
    FAILS(xipc_encoder_put_int(NULL, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_uint(NULL, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_enum(NULL, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_bool(NULL, true), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_hyper(NULL, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_uhyper(NULL, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_float(NULL, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_double(NULL, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_optional(NULL, true), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_quadruple(enc, NULL), XIPC_EINVAL, "bytes is NULL");
    FAILS(xipc_encoder_put_quadruple(NULL, bytes), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_fixed_opaque(enc, NULL, 3), XIPC_EINVAL, "NULL");
    FAILS(xipc_encoder_put_opaque(enc, NULL, 3), XIPC_EINVAL, "NULL");
    FAILS(xipc_encoder_put_opaque(NULL, bytes, 3), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_string(enc, NULL), XIPC_EINVAL, "s is NULL");
    FAILS(xipc_encoder_put_string_n(enc, NULL, 2), XIPC_EINVAL, "NULL");
    FAILS(xipc_encoder_put_count(NULL, 2), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_raw(enc, NULL, 4), XIPC_EINVAL, "NULL");
    FAILS(xipc_encoder_put_int_vector(enc, NULL, 1), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_encoder_put_int_array(enc, NULL, 1), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_encoder_put_uint_vector(NULL, &u32, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_hyper_array(enc, NULL, 2), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_encoder_put_uhyper_vector(enc, NULL, 2), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_encoder_put_float_array(NULL, &f, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_double_vector(enc, NULL, 9), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_encoder_put_uint_array(NULL, &u32, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_hyper_vector(enc, NULL, 1), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_encoder_put_uhyper_array(NULL, &u64, 1), XIPC_EINVAL, "encoder is NULL");
    FAILS(xipc_encoder_put_float_vector(enc, NULL, 1), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_encoder_put_double_array(NULL, &d, 1), XIPC_EINVAL, "encoder is NULL");
    /* Nothing was written by the failed calls. */
    OK(xipc_encoder_data(enc, &data, &len));
    CHECK(len == 0);

    FAILS(xipc_decoder_new(NULL, 4, NULL, &dec), XIPC_EINVAL, "NULL");
    FAILS(xipc_decoder_new(bytes, 4, NULL, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_position(NULL, &len), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_position(dec, NULL), XIPC_EINVAL, "NULL");
    FAILS(xipc_decoder_set_position(NULL, 0), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_remaining(NULL, &len), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_finish(NULL), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_enter(NULL), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_leave(NULL), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_charge(NULL, 1), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_int(dec, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_int(NULL, &i32), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_uint(dec, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_enum(NULL, &i32), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_bool(dec, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_bool(NULL, &b), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_hyper(NULL, &i64), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_uhyper(dec, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_uhyper(NULL, &u64), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_float(dec, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_double(NULL, &d), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_optional(dec, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_quadruple(dec, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_fixed_opaque(dec, NULL, 4), XIPC_EINVAL, "NULL");
    FAILS(xipc_decoder_get_opaque_ref(dec, 10, NULL, &len), XIPC_EINVAL, "data is NULL");
    FAILS(xipc_decoder_get_opaque_ref(dec, 10, &data, NULL), XIPC_EINVAL, "len is NULL");
    FAILS(xipc_decoder_get_opaque(dec, 10, bytes, 4, NULL), XIPC_EINVAL, "len is NULL");
    FAILS(xipc_decoder_get_string(dec, 10, (char *)bytes, 4, NULL), XIPC_EINVAL, "len is NULL");
    FAILS(xipc_decoder_get_string_ref(dec, 10, NULL, &len), XIPC_EINVAL, "data is NULL");
    FAILS(xipc_decoder_get_string_ref(NULL, 10, &s, &len), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_count(dec, 10, 4, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_int_vector(dec, NULL, 2), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_uint_array(dec, 9, &u32, 1, NULL), XIPC_EINVAL, "n is NULL");
    FAILS(xipc_decoder_get_hyper_vector(NULL, &i64, 1), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_double_array(NULL, 9, &d, 1, &len), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_int_array(dec, 9, &i32, 1, NULL), XIPC_EINVAL, "n is NULL");
    FAILS(xipc_decoder_get_uint_vector(NULL, &u32, 1), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_hyper_array(NULL, 9, &i64, 1, &len), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_uhyper_vector(dec, NULL, 1), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_uhyper_array(dec, 9, &u64, 1, NULL), XIPC_EINVAL, "n is NULL");
    FAILS(xipc_decoder_get_float_vector(dec, NULL, 1), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_float_array(NULL, 9, &f, 1, &len), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_double_vector(dec, NULL, 1), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_hyper(dec, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_float(NULL, &f), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_double(dec, NULL), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_decoder_get_optional(NULL, &b), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_quadruple(NULL, bytes), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_fixed_opaque(NULL, bytes, 4), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_opaque(NULL, 10, bytes, 4, &len), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_string(NULL, 10, (char *)bytes, 4, &len), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_decoder_get_count(NULL, 10, 4, &len), XIPC_EINVAL, "decoder is NULL");
    FAILS(xipc_xdr_encode_ints(NULL, 1, bytes, 4), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_xdr_encode_uints(&u32, 1, NULL, 4), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_xdr_encode_hypers(NULL, 1, bytes, 8), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_xdr_encode_uhypers(&u64, 1, NULL, 8), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_xdr_encode_floats(NULL, 1, bytes, 4), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_xdr_decode_uints(bytes, 4, NULL, 1), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_xdr_decode_hypers(NULL, 8, &i64, 1), XIPC_EINVAL, "NULL");
    FAILS(xipc_xdr_decode_uhypers(bytes, 8, NULL, 1), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_xdr_decode_floats(NULL, 4, &f, 1), XIPC_EINVAL, "NULL");
    FAILS(xipc_xdr_decode_doubles(bytes, 8, NULL, 1), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_xdr_encode_doubles(NULL, 1, bytes, 8), XIPC_EINVAL, "values is NULL");
    FAILS(xipc_xdr_encode_doubles(&d, 1, NULL, 8), XIPC_EINVAL, "out is NULL");
    FAILS(xipc_xdr_decode_ints(NULL, 4, &i32, 1), XIPC_EINVAL, "NULL");
    FAILS(xipc_xdr_decode_ints(bytes, 4, NULL, 1), XIPC_EINVAL, "out is NULL");
    /* NULL with length 0 is an empty input, not an error. */
    OK(xipc_encoder_put_opaque(enc, NULL, 0));
    OK(xipc_xdr_encode_doubles(NULL, 0, NULL, 0));
    /* The failed calls did not move the decoder. */
    OK(xipc_decoder_position(dec, &len));
    CHECK(len == 0);

    /* Freeing NULL is allowed. */
    xipc_encoder_free(NULL);
    xipc_decoder_free(NULL);
    xipc_bytes_free(NULL, 0);
    xipc_decoder_free(dec);
    xipc_encoder_free(enc);
}

static void test_hostile_input(void) {
    xipc_decoder *dec;
    const uint8_t *data;
    size_t len;

    /* A length of 0xFFFFFFFF on a 12-byte buffer: refused before allocating. */
    static const uint8_t huge[12] = {0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd', 0, 0, 0, 0};
    OK(xipc_decoder_new(huge, sizeof huge, NULL, &dec));
    FAILS(xipc_decoder_get_opaque_ref(dec, UINT32_MAX, &data, &len), XIPC_ELIMIT, "at byte 0");
    uint8_t buf[16];
    FAILS(xipc_decoder_get_opaque(dec, UINT32_MAX, buf, sizeof buf, &len), XIPC_ELIMIT, "at byte 0");
    size_t count;
    CHECK(xipc_decoder_get_count(dec, UINT32_MAX, 4, &count) < 0);
    double d[4];
    CHECK(xipc_decoder_get_double_array(dec, UINT32_MAX, d, 4, &count) < 0);
    size_t pos;
    OK(xipc_decoder_position(dec, &pos));
    CHECK(pos == 0);
    xipc_decoder_free(dec);

    /* The same with no limits at all: the bytes that remain still bound it. */
    xipc_limits none = {SIZE_MAX, SIZE_MAX, 1024, SIZE_MAX};
    OK(xipc_decoder_new(huge, sizeof huge, &none, &dec));
    FAILS(xipc_decoder_get_opaque_ref(dec, UINT32_MAX, &data, &len), XIPC_EXDR, "at byte 0");
    CHECK(xipc_decoder_get_count(dec, UINT32_MAX, 4, &count) == XIPC_EXDR);
    xipc_decoder_free(dec);

    /* Truncated input: every prefix of a valid message fails cleanly. */
    static const uint8_t msg[] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 1, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
    for (size_t cut = 0; cut < sizeof msg; cut++) {
        OK(xipc_decoder_new(msg, cut, NULL, &dec));
        double v;
        bool flag;
        int rc = xipc_decoder_get_opaque_ref(dec, 8, &data, &len);
        if (rc == XIPC_OK) rc = xipc_decoder_get_bool(dec, &flag);
        if (rc == XIPC_OK) rc = xipc_decoder_get_double(dec, &v);
        CHECK(rc == XIPC_EXDR);
        CHECK(strncmp(xipc_last_error(), "at byte ", 8) == 0);
        xipc_decoder_free(dec);
    }

    /* Non-zero padding: the error names the offending byte (offset 6). */
    static const uint8_t padded[] = {0, 0, 0, 1, 'a', 0, 1, 0};
    OK(xipc_decoder_new(padded, sizeof padded, NULL, &dec));
    FAILS(xipc_decoder_get_opaque_ref(dec, 8, &data, &len), XIPC_EXDR, "non-zero padding");
    FAILS(xipc_decoder_get_opaque_ref(dec, 8, &data, &len), XIPC_EXDR, "at byte 6");
    xipc_decoder_free(dec);
    OK(xipc_decoder_new(padded + 4, 4, NULL, &dec));
    FAILS(xipc_decoder_get_fixed_opaque(dec, buf, 1), XIPC_EXDR, "non-zero padding");
    xipc_decoder_free(dec);

    /* A bool of 2. */
    static const uint8_t two[] = {0, 0, 0, 2};
    bool flag = true;
    OK(xipc_decoder_new(two, 4, NULL, &dec));
    FAILS(xipc_decoder_get_bool(dec, &flag), XIPC_EXDR, "bool must be 0 or 1, found 2");
    FAILS(xipc_decoder_get_optional(dec, &flag), XIPC_EXDR, "at byte 0");
    CHECK(flag); /* outputs are written only on success */
    xipc_decoder_free(dec);

    /* A string longer than its bound. */
    static const uint8_t five[] = {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
    OK(xipc_decoder_new(five, sizeof five, NULL, &dec));
    FAILS(xipc_decoder_get_string_ref(dec, 4, (const char **)&data, &len), XIPC_ELIMIT, "at byte 0");
    OK(xipc_decoder_set_position(dec, 0));
    OK(xipc_decoder_get_string_ref(dec, 5, (const char **)&data, &len));
    FAILS(xipc_decoder_set_position(dec, 13), XIPC_EINVAL, "13");
    xipc_decoder_free(dec);

    /* Trailing bytes are reported by finish. */
    OK(xipc_decoder_new(five, sizeof five, NULL, &dec));
    FAILS(xipc_decoder_finish(dec), XIPC_EXDR, "at byte 0");
    xipc_decoder_free(dec);
}

static void test_limits(void) {
    xipc_limits lim = xipc_limits_default();
    CHECK(lim.max_item_bytes == 16u << 20);
    CHECK(lim.max_elements == 4u << 20);
    CHECK(lim.max_depth == 64);
    CHECK(lim.max_alloc == 64u << 20);

    static const uint8_t eight[] = {0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    xipc_decoder *dec;
    const uint8_t *data;
    size_t len;
    xipc_limits small = lim;
    small.max_item_bytes = 7;
    OK(xipc_decoder_new(eight, sizeof eight, &small, &dec));
    FAILS(xipc_decoder_get_opaque_ref(dec, UINT32_MAX, &data, &len), XIPC_ELIMIT, "at byte 0");
    xipc_decoder_free(dec);

    small = lim;
    small.max_elements = 1;
    size_t n;
    OK(xipc_decoder_new(eight, sizeof eight, &small, &dec));
    FAILS(xipc_decoder_get_count(dec, UINT32_MAX, 1, &n), XIPC_ELIMIT, "at byte 0");
    xipc_decoder_free(dec);

    /* Depth: a chain of optional-data nodes deeper than max_depth. */
    small = lim;
    small.max_depth = 3;
    static const uint8_t ones[16] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    OK(xipc_decoder_new(ones, sizeof ones, &small, &dec));
    int rc = XIPC_OK;
    int depth = 0;
    bool more = true;
    while (rc == XIPC_OK && more) {
        rc = xipc_decoder_enter(dec);
        if (rc == XIPC_OK) {
            depth++;
            rc = xipc_decoder_get_optional(dec, &more);
        }
    }
    CHECK(rc == XIPC_ELIMIT && depth == 3);
    CHECK(strncmp(xipc_last_error(), "at byte 12: ", 12) == 0);
    xipc_decoder_free(dec);

    /* Total allocation. */
    small = lim;
    small.max_alloc = 100;
    OK(xipc_decoder_new(eight, sizeof eight, &small, &dec));
    OK(xipc_decoder_charge(dec, 60));
    FAILS(xipc_decoder_charge(dec, 60), XIPC_ELIMIT, "");
    xipc_decoder_free(dec);
}

int main(void) {
    test_version();
    test_status_names();
    test_null_arguments();
    test_hostile_input();
    test_limits();
    /* Errors are per thread and stay until the next failing call. */
    CHECK(xipc_last_error()[0] != '\0');
    if (failures) {
        fprintf(stderr, "xdr_errors: %d checks failed\n", failures);
        return 1;
    }
    printf("xdr_errors: all checks passed (library %s, header %s)\n", xipc_version(),
           XIPC_VERSION_STRING);
    return 0;
}
