/* The generated C TRAIL server for gen_trailing.sh; built twice, once
 * with XIPC_GEN_STRICT. Prints its TCP port, then serves. */
#include <stdio.h>
#include "trailing.h"

int add_1_svc(pair const *arg1, int *result, const xipc_rpc_call *call, void *user)
{
	(void)call;
	(void)user;
	*result = arg1->a + arg1->b;
	return 0;
}

int main(void)
{
	xipc_rpc_server *server;
	uint16_t port = 0;
	if (xipc_rpc_server_new(&server) != 0 || trail_1_register(server, NULL) != 0 ||
	    xipc_rpc_server_listen_tcp(server, "127.0.0.1", 0, &port) != 0) {
		fprintf(stderr, "server: %s\n", xipc_last_error());
		return 1;
	}
	printf("%u\n", port);
	fflush(stdout);
	return xipc_rpc_server_serve_forever(server) == 0 ? 0 : 1;
}
