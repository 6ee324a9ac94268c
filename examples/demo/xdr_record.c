/* The demo's C side: encodes a `sample` record with xipc, and decodes the
 * one Python sends back.
 *
 *   struct sample {
 *       string   sensor<32>;
 *       unsigned seq;
 *       hyper    time_ns;
 *       double   values<16>;
 *       bool     ok;
 *   };
 *
 * Usage: xdr_record encode FILE | xdr_record decode FILE
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xipc.h>

#define MAX_VALUES 16

static int fail(const char *what, int rc) {
    fprintf(stderr, "C: %s failed: %s (%s)\n", what, xipc_strerror(rc), xipc_last_error());
    return 1;
}

static void show_hex(const char *who, const uint8_t *data, size_t len) {
    printf("%s %zu bytes:", who, len);
    for (size_t i = 0; i < len; i++) printf("%s%02x", i % 32 == 0 ? "\n    " : i % 4 == 0 ? " " : "", data[i]);
    printf("\n");
}

static int encode(const char *path) {
    static const double values[] = {21.5, 22.25, 19.75};
    xipc_encoder *enc = NULL;
    int rc;
    if ((rc = xipc_encoder_new(&enc)) != XIPC_OK) return fail("xipc_encoder_new", rc);
    if ((rc = xipc_encoder_put_string(enc, "thermo-1")) != XIPC_OK ||
        (rc = xipc_encoder_put_uint(enc, 7)) != XIPC_OK ||
        (rc = xipc_encoder_put_hyper(enc, 1700000000123456789LL)) != XIPC_OK ||
        (rc = xipc_encoder_put_double_array(enc, values, 3)) != XIPC_OK ||
        (rc = xipc_encoder_put_bool(enc, true)) != XIPC_OK) {
        xipc_encoder_free(enc);
        return fail("encoding", rc);
    }
    const uint8_t *data;
    size_t len;
    xipc_encoder_data(enc, &data, &len);
    printf("C: sample{sensor=\"thermo-1\", seq=7, time_ns=1700000000123456789, "
           "values=[21.5, 22.25, 19.75], ok=true}\n");
    show_hex("C: sends", data, len);
    FILE *f = fopen(path, "wb");
    int bad = f == NULL || fwrite(data, 1, len, f) != len;
    if (f) bad |= fclose(f) != 0;
    xipc_encoder_free(enc);
    if (bad) {
        perror(path);
        return 1;
    }
    return 0;
}

static int decode(const char *path) {
    uint8_t buf[4096];
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    show_hex("C: receives", buf, len);

    xipc_decoder *dec = NULL;
    int rc = xipc_decoder_new(buf, len, NULL, &dec);
    if (rc != XIPC_OK) return fail("xipc_decoder_new", rc);
    char sensor[33];
    size_t sensor_len, n;
    uint32_t seq;
    int64_t time_ns;
    double values[MAX_VALUES];
    bool ok;
    if ((rc = xipc_decoder_get_string(dec, 32, sensor, sizeof sensor, &sensor_len)) != XIPC_OK ||
        (rc = xipc_decoder_get_uint(dec, &seq)) != XIPC_OK ||
        (rc = xipc_decoder_get_hyper(dec, &time_ns)) != XIPC_OK ||
        (rc = xipc_decoder_get_double_array(dec, MAX_VALUES, values, MAX_VALUES, &n)) != XIPC_OK ||
        (rc = xipc_decoder_get_bool(dec, &ok)) != XIPC_OK ||
        (rc = xipc_decoder_finish(dec)) != XIPC_OK) {
        xipc_decoder_free(dec);
        return fail("decoding", rc);
    }
    xipc_decoder_free(dec);
    printf("C: sample{sensor=\"%s\", seq=%u, time_ns=%lld, values=[", sensor, seq, (long long)time_ns);
    for (size_t i = 0; i < n; i++) printf("%s%g", i ? ", " : "", values[i]);
    printf("], ok=%s}\n", ok ? "true" : "false");
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "encode") == 0) return encode(argv[2]);
    if (argc == 3 && strcmp(argv[1], "decode") == 0) return decode(argv[2]);
    fprintf(stderr, "usage: %s encode|decode FILE\n", argv[0]);
    return 2;
}
