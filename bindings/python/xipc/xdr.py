"""XDR (RFC 4506): a drop-in replacement for the standard library's xdrlib."""
