/* With xipc gen's C output: `encode` prints the sample value as hex;
 * `decode HEX` decodes the bytes, checks fields against the sample,
 * re-encodes and prints the hex (which must equal the input). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "every.h"
#include "every_fill.h"

static void print_hex(const uint8_t *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static int check(int ok, const char *what)
{
	if (!ok)
		fprintf(stderr, "decoded value differs: %s\n", what);
	return ok;
}

int main(int argc, char **argv)
{
	everything e, back;
	xipc_encoder *enc;
	xipc_decoder *dec;
	const uint8_t *data;
	size_t len, i, n;
	uint8_t *bytes;
	int ok = 1;
	if (xipc_encoder_new(&enc) != 0)
		return 1;
	if (argc == 2 && strcmp(argv[1], "encode") == 0) {
		every_fill(&e);
		if (xipc_encode_everything(enc, &e) != 0 || xipc_encoder_data(enc, &data, &len) != 0) {
			fprintf(stderr, "encode failed: %s\n", xipc_last_error());
			return 1;
		}
		print_hex(data, len);
		xipc_encoder_free(enc);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "decode") != 0) {
		fprintf(stderr, "usage: %s encode | decode HEX\n", argv[0]);
		return 2;
	}
	n = strlen(argv[2]) / 2;
	bytes = malloc(n ? n : 1);
	for (i = 0; i < n; i++) {
		unsigned v;
		sscanf(argv[2] + 2 * i, "%2x", &v);
		bytes[i] = (uint8_t)v;
	}
	if (xipc_decoder_new(bytes, n, NULL, &dec) != 0 || xipc_decode_everything(dec, &back) != 0 ||
	    xipc_decoder_finish(dec) != 0) {
		fprintf(stderr, "decode failed: %s\n", xipc_last_error());
		return 1;
	}
	every_fill(&e);
	ok &= check(back.i == e.i && back.u == e.u && back.h == e.h && back.uh == e.uh, "integers");
	ok &= check(back.f == e.f && back.d == e.d && back.b == e.b, "float, double, bool");
	ok &= check(back.c == e.c && back.sh == e.sh && back.ch == e.ch && back.lo == e.lo, "enums, char, long");
	ok &= check(strcmp(back.s, e.s) == 0 && strcmp(back.bs, e.bs) == 0 && strcmp(back.n, e.n) == 0, "strings");
	ok &= check(back.va.va_len == 5 && back.va.va_val[4] == 50, "int<>");
	ok &= check(back.list != NULL && back.list->next != NULL && back.list->next->next != NULL &&
	            back.list->next->next->value == 3 && back.list->next->next->next == NULL, "linked list");
	ok &= check(back.list2 == NULL && back.opt != NULL && back.opt->h == e.opt->h, "optional data");
	ok &= check(back.r.c == GREEN && strcmp(back.r.result_u.msg, "ok") == 0, "union result");
	ok &= check(back.m.which == 99 && back.m.maybe_u.other.other_len == 2 &&
	            memcmp(back.m.maybe_u.other.other_val, "hi", 2) == 0, "union default arm");
	ok &= check(back.fl.present && strcmp(back.fl.flagged_u.who, "me") == 0, "bool union");
	ok &= check(back.ns.names_len == 2 && strcmp(back.ns.names_val[1], "bc") == 0, "array of strings");
	ok &= check(memcmp(back.fo, "abcde", 5) == 0 && back.bl.blob_len == 4, "opaque");
	if (xipc_encode_everything(enc, &back) != 0 || xipc_encoder_data(enc, &data, &len) != 0)
		return 1;
	print_hex(data, len);
	xipc_free_everything(&back);
	xipc_decoder_free(dec);
	xipc_encoder_free(enc);
	free(bytes);
	return ok ? 0 : 1;
}
