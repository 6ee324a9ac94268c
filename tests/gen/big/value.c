/* One value of tests/gen/big/store.x, built in C on the generated code
 * (store.h, which includes common.h): prints its XDR encoding (an item,
 * then a two-node list) in hex, as value.py and value.rs do; the
 * well-known types (netobj, authsys_parms, des_block) come from xipc.h.
 * tests/interop/gen_system_x.sh compares the three. */
#include <stdio.h>
#include <string.h>
#include "store.h"

int main(void)
{
	static char tok[] = "tok", m[] = "m", why[] = "why", ab[] = "ab", disk[] = "disk", n[] = "n";
	static char empty[] = "";
	static char h[] = {1, 2, 3};
	static uint32_t gids[] = {4, 5};
	static uint64_t counters[] = {UINT64_MAX, 0};
	owner o;
	item it, it2;
	entry tail, head;
	xipc_encoder *e;
	const uint8_t *data;
	size_t len, i;
	int k;

	memset(&o, 0, sizeof o);
	o.token.n_len = 3;
	o.token.n_bytes = tok;
	o.cred.aup_time = 1;
	o.cred.aup_machname = m;
	o.cred.aup_uid = 2;
	o.cred.aup_gid = 3;
	o.cred.aup_len = 2;
	o.cred.aup_gids = gids;
	memcpy(o.key.c, "12345678", 8);

	memset(&it, 0, sizeof it);
	it.name = disk;
	it.stamp.seconds = U64_MAX;
	it.stamp.offset = I64_MIN;
	it.stamp.nanos = 7;
	it.status = GONE;
	it.level = LOW;
	it.handle.handle_len = 3;
	it.handle.handle_val = h;
	it.owner = &o;
	it.change.kind = 2;
	it.change.change_u.touched.seconds = 1;
	it.change.change_u.touched.offset = -1;
	it.change.change_u.touched.nanos = 2;
	it.state.s = GONE;
	it.state.state_u.why = why;
	it.flagged.on = TRUE;
	it.flagged.flagged_u.value = -5;
	it.extra.tag = 9;
	it.extra.extra_u.raw.raw_len = 2;
	it.extra.extra_u.raw.raw_val = ab;
	it.vector[0] = 1;
	it.vector[1] = -2;
	it.vector[2] = 3;
	it.counters.counters_len = 2;
	it.counters.counters_val = counters;
	it.list[0] = 0.5f;
	it.list[1] = -1.0f;
	for (k = 0; k < 16; k++)
		it.q.bytes[k] = (unsigned char)k;
	it.bytes = TRUE;
	it.str = -3;
	it.type = 255;
	memcpy(it.fixed, "abcde", 5);
	it.note = n;
	it.when.seconds = 1;
	it.when.offset = 2;
	it.when.nanos = 3;

	/* The second node's item: the default (all-zero bytes decode to it),
	 * with the first declared case where zero is no valid discriminant. */
	memset(&it2, 0, sizeof it2);
	it2.name = empty;
	it2.status = READY;
	it2.change.kind = 1;
	it2.change.change_u.renamed = empty;
	it2.state.s = BUSY;
	it2.note = empty;
	tail.it = it2;
	tail.next = NULL;
	head.it = it;
	head.next = &tail;

	if (xipc_encoder_new(&e) != 0 || xipc_encode_item(e, &it) != 0 || xipc_encode_entry(e, &head) != 0) {
		fprintf(stderr, "encoding failed: %s\n", xipc_last_error());
		return 1;
	}
	xipc_encoder_data(e, &data, &len);
	for (i = 0; i < len; i++)
		printf("%02x", data[i]);
	printf("\n");
	xipc_encoder_free(e);
	return 0;
}
