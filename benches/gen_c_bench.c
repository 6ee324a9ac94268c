/* Encodes N records into one buffer and decodes them back, timing each
 * phase; ROUNDS rounds, the best time of each phase counts (the machine may
 * be busy). Built twice by benches/gen.sh: with rpcgen's header and
 * xdr_record (libtirpc), and with xipc gen's header and
 * xipc_encode/decode_record. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gen_record.h"

#define N 100000
#define ROUNDS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int samples[8] = {1, -2, 3, -4, 5, -6, 7, -8};

static void fill(record *r, int i)
{
	r->id = i;
	r->value = i * 0.5;
	r->name = "sixteen-bytes-ok";
	r->samples.samples_len = 8;
	r->samples.samples_val = samples;
}

/* One round: stores the encode and decode times; 0 on success. */
static int one_round(double *enc, double *dec, long *checksum)
{
	record r, back;
	double t0, t1, t2;
	long check = 0;
	int i;
#ifdef USE_RPCGEN
	static char buf[N * 80];
	XDR x;
	size_t used;
	xdrmem_create(&x, buf, sizeof buf, XDR_ENCODE);
	t0 = now();
	for (i = 0; i < N; i++) {
		fill(&r, i);
		if (!xdr_record(&x, &r))
			return 1;
	}
	used = xdr_getpos(&x);
	t1 = now();
	xdrmem_create(&x, buf, (unsigned)used, XDR_DECODE);
	for (i = 0; i < N; i++) {
		memset(&back, 0, sizeof back);
		if (!xdr_record(&x, &back))
			return 1;
		check += back.id + back.samples.samples_val[7];
		xdr_free((xdrproc_t)xdr_record, (char *)&back);
	}
	t2 = now();
	(void)used;
#else
	xipc_encoder *e;
	xipc_decoder *d;
	const uint8_t *data;
	size_t used;
	xipc_limits lim = xipc_limits_default();
	if (xipc_encoder_new(&e) != 0)
		return 1;
	t0 = now();
	for (i = 0; i < N; i++) {
		fill(&r, i);
		if (xipc_encode_record(e, &r) != 0)
			return 1;
	}
	t1 = now();
	xipc_encoder_data(e, &data, &used);
	lim.max_alloc = (size_t)-1;
	if (xipc_decoder_new(data, used, &lim, &d) != 0)
		return 1;
	for (i = 0; i < N; i++) {
		if (xipc_decode_record(d, &back) != 0)
			return 1;
		check += back.id + back.samples.samples_val[7];
		xipc_free_record(&back);
	}
	t2 = now();
	xipc_decoder_free(d);
	xipc_encoder_free(e);
#endif
	*enc = t1 - t0;
	*dec = t2 - t1;
	*checksum = check;
	return 0;
}

int main(void)
{
	double enc, dec, best_enc = 1e9, best_dec = 1e9;
	long check = 0;
	int k;
	for (k = 0; k < ROUNDS; k++) {
		if (one_round(&enc, &dec, &check) != 0)
			return 1;
		best_enc = enc < best_enc ? enc : best_enc;
		best_dec = dec < best_dec ? dec : best_dec;
	}
	printf("encode %.4f decode %.4f check %ld\n", best_enc, best_dec, check);
	return 0;
}
