/* The C RPC API of the xipc RPC contract, for compiling generated stubs
 * (compile only) before the RPC part is in include/xipc.h. Tests include it
 * with -include only when xipc.h does not yet declare xipc_rpc_client_call. */
#ifndef XIPC_GEN_TEST_RPC_CONTRACT_H
#define XIPC_GEN_TEST_RPC_CONTRACT_H
#include <xipc.h>
typedef struct xipc_rpc_client xipc_rpc_client;
typedef struct xipc_rpc_server xipc_rpc_server;
typedef struct xipc_rpc_call xipc_rpc_call;
typedef int (*xipc_rpc_handler)(void *user, const xipc_rpc_call *call,
                                const uint8_t *args, size_t args_len,
                                xipc_encoder *result);
int xipc_rpc_client_connect(const char *host, uint16_t port, uint32_t prog,
                            uint32_t vers, const char *proto, xipc_rpc_client **out);
int xipc_rpc_client_call(xipc_rpc_client *c, uint32_t proc, const uint8_t *args,
                         size_t args_len, uint8_t **reply, size_t *reply_len);
int xipc_rpc_client_set_timeout(xipc_rpc_client *c, int64_t timeout_ms);
int xipc_rpc_client_close(xipc_rpc_client *c);
int xipc_rpc_server_new(xipc_rpc_server **out);
int xipc_rpc_server_register(xipc_rpc_server *s, uint32_t prog, uint32_t vers,
                             uint32_t proc, xipc_rpc_handler handler, void *user);
int xipc_rpc_server_listen_tcp(xipc_rpc_server *s, const char *host, uint16_t port,
                               uint16_t *bound_port);
int xipc_rpc_server_start(xipc_rpc_server *s);
int xipc_rpc_server_stop(xipc_rpc_server *s);
int xipc_rpc_server_close(xipc_rpc_server *s);
#endif
