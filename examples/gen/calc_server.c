/* A calc.x server in C on the stubs `xipc gen` generates:
 *
 *   xipc gen --lang c -o build/gen examples/calc.x
 *   cc -Iinclude -Ibuild/gen examples/gen/calc_server.c build/gen/calc.c \
 *      build/gen/calc_svc.c -Ltarget/release -lxipc -o calc_server
 *   ./calc_server [PORT]
 *
 * It prints the TCP port it listens on, then serves until killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "calc.h"

int calc_null_1_svc(const xipc_rpc_call *call, void *user)
{
	(void)call;
	(void)user;
	return 0;
}

int calc_add_1_svc(calc_pair const *pair, int *result, const xipc_rpc_call *call, void *user)
{
	(void)call;
	(void)user;
	*result = pair->a + pair->b;
	return 0;
}

int calc_summarize_1_svc(calc_samples const *samples, calc_result *result, const xipc_rpc_call *call,
                         void *user)
{
	calc_summary *s = &result->calc_result_u.summary;
	unsigned int i;
	(void)call;
	(void)user;
	if (samples->calc_samples_len == 0) {
		result->status = CALC_EMPTY;
		return 0;
	}
	result->status = CALC_OK;
	s->count = (int)samples->calc_samples_len;
	s->min = s->max = samples->calc_samples_val[0];
	s->mean = 0;
	for (i = 0; i < samples->calc_samples_len; i++) {
		double v = samples->calc_samples_val[i];
		s->mean += v / samples->calc_samples_len;
		if (v < s->min)
			s->min = v;
		if (v > s->max)
			s->max = v;
	}
	return 0;
}

int calc_greet_1_svc(char *const *name, char **result, const xipc_rpc_call *call, void *user)
{
	size_t n = strlen(*name) + sizeof "hello, ";
	(void)call;
	(void)user;
	*result = malloc(n);
	if (*result == NULL)
		return XIPC_ESYSTEM_ERR;
	snprintf(*result, n, "hello, %s", *name);
	return 0;
}

int main(int argc, char **argv)
{
	xipc_rpc_server *server;
	uint16_t port = 0;
	if (xipc_rpc_server_new(&server) != 0 || calc_prog_1_register(server, NULL) != 0 ||
	    xipc_rpc_server_listen_tcp(server, "127.0.0.1", (uint16_t)(argc > 1 ? atoi(argv[1]) : 0), &port) != 0) {
		fprintf(stderr, "server: %s\n", xipc_last_error());
		return 1;
	}
	printf("%u\n", port);
	fflush(stdout);
	return xipc_rpc_server_serve_forever(server) == 0 ? 0 : 1;
}
