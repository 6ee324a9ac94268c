/* The demo's C child: reads framed XDR requests from its parent and answers
 * each one, over two pipes it inherited or two FIFOs it opens by name.
 *
 *   request: struct { unsigned seq; string text<256>; }
 *   reply:   struct { unsigned seq; string text<256>; int pid; }  (text upper-cased)
 *
 * Usage: xdr_child pipe IN_FD OUT_FD | xdr_child fifo IN_PATH OUT_PATH
 * It answers until the parent closes its end, then exits 0.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xipc.h>

#define MAX_TEXT 256

static int fail(const char *what, int rc) {
    fprintf(stderr, "C child: %s: %s (%s)\n", what, xipc_strerror(rc), xipc_last_error());
    return 1;
}

/* Decodes one request and encodes its reply into `enc`. */
static int answer(const uint8_t *msg, size_t len, xipc_encoder *enc) {
    xipc_decoder *dec = NULL;
    char text[MAX_TEXT + 1];
    size_t text_len;
    uint32_t seq;
    int rc = xipc_decoder_new(msg, len, NULL, &dec);
    if (rc == XIPC_OK && (rc = xipc_decoder_get_uint(dec, &seq)) == XIPC_OK &&
        (rc = xipc_decoder_get_string(dec, MAX_TEXT, text, sizeof text, &text_len)) == XIPC_OK)
        rc = xipc_decoder_finish(dec);
    xipc_decoder_free(dec);
    if (rc != XIPC_OK) return rc;
    for (size_t i = 0; i < text_len; i++) text[i] = (char)toupper((unsigned char)text[i]);
    if ((rc = xipc_encoder_put_uint(enc, seq)) != XIPC_OK ||
        (rc = xipc_encoder_put_string_n(enc, text, text_len)) != XIPC_OK)
        return rc;
    return xipc_encoder_put_int(enc, (int32_t)getpid());
}

static int serve(xipc_stream *in, xipc_stream *out) {
    uint8_t msg[4 + 4 + MAX_TEXT];
    size_t len;
    int rc;
    while ((rc = xipc_stream_receive(in, msg, sizeof msg, &len)) == XIPC_OK) {
        xipc_encoder *enc = NULL;
        const uint8_t *reply;
        size_t reply_len;
        if ((rc = xipc_encoder_new(&enc)) == XIPC_OK && (rc = answer(msg, len, enc)) == XIPC_OK &&
            (rc = xipc_encoder_data(enc, &reply, &reply_len)) == XIPC_OK)
            rc = xipc_stream_send(out, reply, reply_len);
        xipc_encoder_free(enc);
        if (rc != XIPC_OK) return fail("answer", rc);
    }
    return rc == XIPC_ECLOSED ? 0 : fail("receive", rc); /* the parent is done */
}

int main(int argc, char **argv) {
    xipc_stream *in = NULL, *out = NULL;
    int rc;
    if (argc == 4 && strcmp(argv[1], "pipe") == 0) {
        if ((rc = xipc_stream_from_fd(atoi(argv[2]), &in)) != XIPC_OK ||
            (rc = xipc_stream_from_fd(atoi(argv[3]), &out)) != XIPC_OK) {
            xipc_stream_close(in);
            return fail("pipe", rc);
        }
    } else if (argc == 4 && strcmp(argv[1], "fifo") == 0) {
        /* The same order as the parent (requests, then replies), so neither
         * open waits for an open the other has not reached. */
        if ((rc = xipc_fifo_open(argv[2], XIPC_FIFO_READ, true, &in)) != XIPC_OK ||
            (rc = xipc_fifo_open(argv[3], XIPC_FIFO_WRITE, true, &out)) != XIPC_OK) {
            xipc_stream_close(in);
            return fail("fifo", rc);
        }
    } else {
        fprintf(stderr, "usage: %s pipe IN_FD OUT_FD | %s fifo IN_PATH OUT_PATH\n", argv[0], argv[0]);
        return 2;
    }
    rc = serve(in, out);
    xipc_stream_close(in);
    xipc_stream_close(out);
    return rc;
}
