//! ONC RPC (RFC 5531) client, server and rpcbind (issue 4).
