/* A calc.x client in C on the stubs `xipc gen` generates:
 *
 *   xipc gen --lang c -o build/gen examples/calc.x
 *   cc -Iinclude -Ibuild/gen examples/gen/calc_client.c build/gen/calc.c \
 *      -Ltarget/release -lxipc -o calc_client
 *   ./calc_client 127.0.0.1 PORT
 */
#include <stdio.h>
#include <stdlib.h>
#include "calc.h"

int main(int argc, char **argv)
{
	xipc_rpc_client *clnt;
	calc_pair pair = {20, 22};
	double values[] = {1.0, 2.0, 6.0};
	calc_samples samples = {3, values};
	calc_result result;
	char *name = "C client";
	char *greeting = NULL;
	int sum = 0, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	rc = xipc_rpc_client_connect(argv[1], (uint16_t)atoi(argv[2]), CALC_PROG, CALC_VERS, "tcp", &clnt);
	if (rc != 0) {
		fprintf(stderr, "connect: %s\n", xipc_last_error());
		return 1;
	}
	if ((rc = calc_null_1(clnt)) != 0 || (rc = calc_add_1(clnt, &pair, &sum)) != 0 ||
	    (rc = calc_summarize_1(clnt, &samples, &result)) != 0 ||
	    (rc = calc_greet_1(clnt, &name, &greeting)) != 0) {
		fprintf(stderr, "call: %s (%s)\n", xipc_strerror(rc), xipc_last_error());
		xipc_rpc_client_close(clnt);
		return 1;
	}
	printf("add: %d\n", sum);
	if (result.status == CALC_OK)
		printf("summary: count %d mean %g min %g max %g\n", result.calc_result_u.summary.count,
		       result.calc_result_u.summary.mean, result.calc_result_u.summary.min,
		       result.calc_result_u.summary.max);
	printf("greet: %s\n", greeting);
	xipc_free_calc_result(&result);
	free(greeting);
	xipc_rpc_client_close(clnt);
	return 0;
}
