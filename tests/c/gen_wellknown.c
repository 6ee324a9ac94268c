/* The well-known ONC RPC types that generated C code takes from xipc.h
 * (netobj, des_block, netbuf, opaque_auth, authsys_parms): their codecs
 * write the bytes libtirpc's xdr_netobj, xdr_des_block, xdr_netbuf,
 * xdr_opaque_auth and xdr_authunix_parms write, decode them back into
 * malloc'ed memory that xipc_free_T releases, enforce the bounds, and
 * leave a failed decoding zeroed with nothing allocated. */
#include <string.h>

#include "check.h"

static const uint8_t *bytes_of(xipc_encoder *e, size_t *len)
{
	const uint8_t *data;
	CHECK(xipc_encoder_data(e, &data, len));
	return data;
}

static int same(xipc_encoder *e, const char *want, size_t n)
{
	size_t len;
	const uint8_t *data = bytes_of(e, &len);
	return len == n && memcmp(data, want, n) == 0;
}

int main(void)
{
	xipc_encoder *e;
	xipc_decoder *d;
	static char tok[] = "tok", host[] = "host";
	static uint32_t gids[] = {10, 20};
	char big[1025];
	size_t len;
	const uint8_t *data;

	/* netobj: opaque<1024>. */
	{
		xipc_netobj in = {3, tok}, out;
		CHECK(xipc_encoder_new(&e));
		CHECK(xipc_encode_netobj(e, &in));
		EXPECT(same(e, "\0\0\0\3tok\0", 8));
		data = bytes_of(e, &len);
		CHECK(xipc_decoder_new(data, len, NULL, &d));
		CHECK(xipc_decode_netobj(d, &out));
		CHECK(xipc_decoder_finish(d));
		EXPECT(out.n_len == 3 && memcmp(out.n_bytes, "tok", 3) == 0);
		xipc_free_netobj(&out);
		EXPECT(out.n_bytes == NULL && out.n_len == 0);
		xipc_decoder_free(d);
		memset(big, 'x', sizeof big);
		in.n_len = sizeof big;
		in.n_bytes = big;
		EXPECT(xipc_encode_netobj(e, &in) == XIPC_ELIMIT);
		/* A length over the bound fails and leaves nothing allocated. */
		CHECK(xipc_decoder_new((const uint8_t *)"\0\0\4\1", 4, NULL, &d));
		EXPECT(xipc_decode_netobj(d, &out) == XIPC_ELIMIT);
		EXPECT(out.n_bytes == NULL && out.n_len == 0);
		xipc_decoder_free(d);
		xipc_encoder_free(e);
		xipc_free_netobj(NULL);
	}
	/* des_block: 8 bytes. */
	{
		xipc_des_block in, out;
		memcpy(in.c, "12345678", 8);
		CHECK(xipc_encoder_new(&e));
		CHECK(xipc_encode_des_block(e, &in));
		EXPECT(same(e, "12345678", 8));
		data = bytes_of(e, &len);
		CHECK(xipc_decoder_new(data, len, NULL, &d));
		CHECK(xipc_decode_des_block(d, &out));
		EXPECT(memcmp(out.c, "12345678", 8) == 0);
		xipc_free_des_block(&out);
		xipc_decoder_free(d);
		xipc_encoder_free(e);
	}
	/* netbuf: maxlen, then opaque<maxlen>. */
	{
		xipc_netbuf in = {8, 4, host}, out;
		CHECK(xipc_encoder_new(&e));
		CHECK(xipc_encode_netbuf(e, &in));
		EXPECT(same(e, "\0\0\0\x08\0\0\0\4host", 12));
		data = bytes_of(e, &len);
		CHECK(xipc_decoder_new(data, len, NULL, &d));
		CHECK(xipc_decode_netbuf(d, &out));
		EXPECT(out.maxlen == 8 && out.len == 4 && memcmp(out.buf, "host", 4) == 0);
		xipc_free_netbuf(&out);
		EXPECT(out.buf == NULL);
		xipc_decoder_free(d);
		in.maxlen = 2;
		EXPECT(xipc_encode_netbuf(e, &in) == XIPC_ELIMIT);
		/* 4 bytes where maxlen says 2. */
		CHECK(xipc_decoder_new((const uint8_t *)"\0\0\0\2\0\0\0\4host", 12, NULL, &d));
		EXPECT(xipc_decode_netbuf(d, &out) == XIPC_ELIMIT);
		EXPECT(out.buf == NULL && out.maxlen == 0);
		xipc_decoder_free(d);
		xipc_encoder_free(e);
	}
	/* opaque_auth: flavor, body<400>. */
	{
		xipc_opaque_auth in = {1, tok, 3}, out;
		CHECK(xipc_encoder_new(&e));
		CHECK(xipc_encode_opaque_auth(e, &in));
		EXPECT(same(e, "\0\0\0\1\0\0\0\3tok\0", 12));
		data = bytes_of(e, &len);
		CHECK(xipc_decoder_new(data, len, NULL, &d));
		CHECK(xipc_decode_opaque_auth(d, &out));
		EXPECT(out.oa_flavor == 1 && out.oa_length == 3 && memcmp(out.oa_base, "tok", 3) == 0);
		xipc_free_opaque_auth(&out);
		xipc_decoder_free(d);
		xipc_encoder_free(e);
	}
	/* authsys_parms: stamp, machine name<255>, uid, gid, gids<16>. */
	{
		xipc_authsys_parms in = {7, host, 1000, 100, 2, gids}, out;
		static const char want[] = "\0\0\0\7\0\0\0\4host\0\0\3\xe8\0\0\0\x64\0\0\0\2\0\0\0\x0a\0\0\0\x14";
		CHECK(xipc_encoder_new(&e));
		CHECK(xipc_encode_authsys_parms(e, &in));
		EXPECT(same(e, want, sizeof want - 1));
		data = bytes_of(e, &len);
		CHECK(xipc_decoder_new(data, len, NULL, &d));
		CHECK(xipc_decode_authsys_parms(d, &out));
		EXPECT(out.aup_time == 7 && strcmp(out.aup_machname, "host") == 0);
		EXPECT(out.aup_uid == 1000 && out.aup_gid == 100 && out.aup_len == 2);
		EXPECT(out.aup_gids[0] == 10 && out.aup_gids[1] == 20);
		xipc_free_authsys_parms(&out);
		EXPECT(out.aup_machname == NULL && out.aup_gids == NULL);
		xipc_decoder_free(d);
		/* Cut short after the name: nothing stays allocated. */
		CHECK(xipc_decoder_new(data, 16, NULL, &d));
		EXPECT(xipc_decode_authsys_parms(d, &out) == XIPC_EXDR);
		EXPECT(out.aup_machname == NULL);
		xipc_decoder_free(d);
		in.aup_len = 17;
		EXPECT(xipc_encode_authsys_parms(e, &in) == XIPC_ELIMIT);
		in.aup_machname = NULL;
		EXPECT(xipc_encode_authsys_parms(e, &in) == XIPC_EINVAL);
		EXPECT(xipc_encode_authsys_parms(e, NULL) == XIPC_EINVAL);
		xipc_encoder_free(e);
	}
	printf("well-known types: ok\n");
	return 0;
}
