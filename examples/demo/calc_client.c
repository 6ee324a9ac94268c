/* The demo's C client of the calc.x service: it asks rpcbind where the
 * service listens (portmap GETPORT, an ordinary RPC call to program 100000),
 * then calls it through the stubs `xipc gen --lang c` wrote.
 *
 *   xipc gen --lang c -o gen examples/calc.x
 *   cc -Iinclude -Igen calc_client.c gen/calc.c gen/calc_clnt.c -lxipc
 *   ./a.out 127.0.0.1 RPCBIND_PORT
 */
#include <stdio.h>
#include <stdlib.h>

#include "calc.h"

#define PMAP_PROG 100000u
#define PMAP_VERS 2u
#define PMAPPROC_GETPORT 3u
#define IPPROTO_TCP_NUMBER 6u

static int fail(const char *what, int rc)
{
	fprintf(stderr, "C client: %s: %s (%s)\n", what, xipc_strerror(rc), xipc_last_error());
	return 1;
}

/* GETPORT(mapping{prog, vers, prot, port}) -> unsigned port, 0 if unknown. */
static int lookup(const char *host, uint16_t rpcbind_port, uint16_t *port)
{
	xipc_rpc_client *pmap = NULL;
	xipc_encoder *args = NULL;
	xipc_decoder *dec = NULL;
	const uint8_t *data;
	uint8_t *reply = NULL;
	size_t len, reply_len = 0;
	uint32_t found = 0;
	int rc;

	if ((rc = xipc_rpc_client_connect(host, rpcbind_port, PMAP_PROG, PMAP_VERS, "tcp", &pmap)) != 0)
		return rc;
	if ((rc = xipc_encoder_new(&args)) == 0 && (rc = xipc_encoder_put_uint(args, CALC_PROG)) == 0 &&
	    (rc = xipc_encoder_put_uint(args, CALC_VERS)) == 0 &&
	    (rc = xipc_encoder_put_uint(args, IPPROTO_TCP_NUMBER)) == 0 &&
	    (rc = xipc_encoder_put_uint(args, 0)) == 0 && (rc = xipc_encoder_data(args, &data, &len)) == 0 &&
	    (rc = xipc_rpc_client_call(pmap, PMAPPROC_GETPORT, data, len, &reply, &reply_len)) == 0 &&
	    (rc = xipc_decoder_new(reply, reply_len, NULL, &dec)) == 0 &&
	    (rc = xipc_decoder_get_uint(dec, &found)) == 0)
		rc = xipc_decoder_finish(dec);
	xipc_decoder_free(dec);
	xipc_bytes_free(reply, reply_len);
	xipc_encoder_free(args);
	xipc_rpc_client_close(pmap);
	if (rc == 0 && (found == 0 || found > 65535)) {
		fprintf(stderr, "C client: calc is not registered with rpcbind on %s:%u\n", host, rpcbind_port);
		return XIPC_ENOENT;
	}
	if (rc == 0)
		*port = (uint16_t)found;
	return rc;
}

int main(int argc, char **argv)
{
	xipc_rpc_client *clnt = NULL;
	calc_pair pair = {20, 22};
	double values[] = {1.0, 2.0, 6.0};
	calc_samples samples = {3, values};
	calc_result result;
	char *name = "C client";
	char *greeting = NULL;
	uint16_t port = 0;
	int sum = 0, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST RPCBIND_PORT\n", argv[0]);
		return 2;
	}
	if ((rc = lookup(argv[1], (uint16_t)atoi(argv[2]), &port)) != 0)
		return rc == XIPC_ENOENT ? 1 : fail("rpcbind lookup", rc);
	if ((rc = xipc_rpc_client_connect(argv[1], port, CALC_PROG, CALC_VERS, "tcp", &clnt)) != 0)
		return fail("connect", rc);
	if ((rc = calc_add_1(clnt, &pair, &sum)) != 0 || (rc = calc_summarize_1(clnt, &samples, &result)) != 0) {
		xipc_rpc_client_close(clnt);
		return fail("call", rc);
	}
	if ((rc = calc_greet_1(clnt, &name, &greeting)) != 0) {
		xipc_free_calc_result(&result);
		xipc_rpc_client_close(clnt);
		return fail("call", rc);
	}
	printf("C client: rpcbind says port %u; add(20, 22) = %d; ", port, sum);
	if (result.status == CALC_OK)
		printf("summarize(1, 2, 6) = mean %g, max %g; ", result.calc_result_u.summary.mean,
		       result.calc_result_u.summary.max);
	printf("greet -> \"%s\"\n", greeting);
	xipc_free_calc_result(&result);
	free(greeting);
	xipc_rpc_client_close(clnt);
	return 0;
}
