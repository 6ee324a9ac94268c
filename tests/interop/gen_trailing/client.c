/* The generated C TRAIL client for gen_trailing.sh (`client PORT`); built
 * twice, once with XIPC_GEN_STRICT. Prints ADD(3, 4) or `error: STATUS`. */
#include <stdio.h>
#include <stdlib.h>
#include "trailing.h"

int main(int argc, char **argv)
{
	xipc_rpc_client *clnt;
	pair p = {3, 4};
	int sum = 0, rc;
	if (argc < 2 || xipc_rpc_client_connect("127.0.0.1", (uint16_t)atoi(argv[1]), TRAIL, TRAIL_V1, "tcp", &clnt) != 0) {
		fprintf(stderr, "client: %s\n", xipc_last_error());
		return 1;
	}
	rc = add_1(clnt, &p, &sum);
	if (rc == 0)
		printf("%d\n", sum);
	else
		printf("error: %s\n", xipc_strerror(rc));
	xipc_rpc_client_close(clnt);
	return 0;
}
