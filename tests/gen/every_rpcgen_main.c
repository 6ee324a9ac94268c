/* Encodes the sample value with rpcgen's xdr_everything (libtirpc) and
 * prints it as hex. */
#include <stdio.h>
#include <stdlib.h>
#include "compat.h"
#define EVERY_NO_QUAD
#include "every_fill.h"

int main(void)
{
	static char buf[65536];
	everything e;
	XDR x;
	unsigned int i, n;
	every_fill(&e);
	xdrmem_create(&x, buf, sizeof buf, XDR_ENCODE);
	if (!xdr_everything(&x, &e)) {
		fprintf(stderr, "xdr_everything failed\n");
		return 1;
	}
	n = xdr_getpos(&x);
	for (i = 0; i < n; i++)
		printf("%02x", (unsigned char)buf[i]);
	printf("\n");
	return 0;
}
