#!/usr/bin/env bash
# Streams across languages and processes:
#  1. a C program using xipc writes messages to a FIFO, a TCP connection
#     (IPv6 loopback) and a Unix socket; Python reads them;
#  2. a plain C program (no xipc) writes record-marked frames with write(2);
#     Python's receive reads them;
#  3. Python writes messages over a Unix socket; a plain C program parses
#     the record marks by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
lib=$root/target/release/libxipc.so
[[ -f $lib ]] || { echo "stream_c_python: $lib is missing; run make" >&2; exit 1; }
command -v "${CC:-cc}" >/dev/null || { echo "stream_c_python: no C compiler; install gcc" >&2; exit 1; }
python=${PYTHON:-python3}
export PYTHONPATH=$root/bindings/python XIPC_LIBRARY=$lib

work=$(mktemp -d /tmp/xipc-stream-interop-XXXXXX)
trap 'rm -rf "$work"' EXIT
# The library's soname is libxipc.so.0: give the loader that name.
ln -s "$lib" "$work/libxipc.so.0"
cflags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$root/include")

cat > "$work/xipc_writer.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "xipc.h"
#include <stdlib.h>
/* xipc_writer fifo PATH | tcp HOST PORT | unix PATH */
int main(int argc, char **argv) {
    xipc_stream *w = NULL;
    int rc = XIPC_EINVAL;
    if (argc == 3 && strcmp(argv[1], "fifo") == 0) {
        rc = xipc_fifo_open(argv[2], XIPC_FIFO_WRITE, true, &w);
    } else if (argc == 4 && strcmp(argv[1], "tcp") == 0) {
        rc = xipc_tcp_connect(argv[2], (uint16_t)atoi(argv[3]), 5000, &w);
    } else if (argc == 3 && strcmp(argv[1], "unix") == 0) {
        rc = xipc_unix_connect(argv[2], 5000, &w);
    }
    if (rc != XIPC_OK) {
        fprintf(stderr, "open: %s\n", xipc_last_error());
        return 1;
    }
    char msg[64];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(msg, sizeof msg, "message %d from C", i);
        if (xipc_stream_send(w, (const uint8_t *)msg, (size_t)n) != XIPC_OK) {
            fprintf(stderr, "send: %s\n", xipc_last_error());
            return 1;
        }
    }
    xipc_stream_close(w);
    return 0;
}
C
cat > "$work/raw_writer.c" <<'C'
/* No xipc: record marking by hand (RFC 5531 section 11). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
static void put(int fd, const char *s, int last) {
    uint32_t h = htonl((uint32_t)strlen(s) | (last ? 0x80000000u : 0));
    if (write(fd, &h, 4) != 4 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) _exit(1);
}
int main(int argc, char **argv) {
    int fd = open(argv[argc - 1], O_WRONLY);
    if (fd < 0) return 1;
    put(fd, "one fragment", 1);
    put(fd, "three ", 0);
    put(fd, "frag", 0);
    put(fd, "ments", 1);
    put(fd, "", 1);
    return close(fd);
}
C
cat > "$work/raw_reader.c" <<'C'
/* No xipc: connects to a Unix socket and prints each record, one a line. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
static int full(int fd, void *buf, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0) return got == 0 && r == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}
int main(int argc, char **argv) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strncpy(sa.sun_path, argv[argc - 1], sizeof sa.sun_path - 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return 1;
    char msg[4096];
    size_t len = 0;
    uint32_t h;
    int r;
    while ((r = full(fd, &h, 4)) == 1) {
        h = ntohl(h);
        size_t n = h & 0x7fffffffu;
        if (len + n > sizeof msg || full(fd, msg + len, n) != 1) return 1;
        len += n;
        if (h & 0x80000000u) {
            printf("%.*s\n", (int)len, msg);
            len = 0;
        }
    }
    return r == 0 && len == 0 ? 0 : 1;
}
C
"${CC:-cc}" "${cflags[@]}" -o "$work/xipc_writer" "$work/xipc_writer.c" \
    -L"$work" -Wl,-rpath,"$work" -l:libxipc.so.0
"${CC:-cc}" "${cflags[@]}" -o "$work/raw_writer" "$work/raw_writer.c"
"${CC:-cc}" "${cflags[@]}" -o "$work/raw_reader" "$work/raw_reader.c"

# 1. xipc C writer -> Python reader, through a FIFO, TCP and a Unix socket.
"$python" - "$work" <<'PY'
import subprocess, sys, xipc
work = sys.argv[1]

def drain(stream):
    got = []
    with stream:
        while True:
            try:
                got.append(stream.receive())
            except xipc.errors.ConnectionClosed:
                return got

expected = [b"message %d from C" % i for i in range(100)]
xipc.mkfifo(f"{work}/fifo")
writer = subprocess.Popen([f"{work}/xipc_writer", "fifo", f"{work}/fifo"])
got = drain(xipc.open_fifo(f"{work}/fifo", "r"))
assert writer.wait(10) == 0 and got == expected, got[:3]
with xipc.tcp_listen("::1") as listener:
    writer = subprocess.Popen([f"{work}/xipc_writer", "tcp", "::1", str(listener.port)])
    got = drain(listener.accept(timeout=10))
assert writer.wait(10) == 0 and got == expected, got[:3]
with xipc.unix_listen(f"{work}/writer.sock") as listener:
    writer = subprocess.Popen([f"{work}/xipc_writer", "unix", f"{work}/writer.sock"])
    conn = listener.accept(timeout=10)
    assert conn.peer_credentials().pid == writer.pid
    got = drain(conn)
assert writer.wait(10) == 0 and got == expected, got[:3]
print("C (xipc) -> Python over a FIFO, TCP (::1) and a Unix socket: 100 messages each")
PY

# 2. plain C write(2) frames -> Python receive, through a FIFO.
"$python" - "$work" <<'PY'
import subprocess, sys, xipc
work = sys.argv[1]
xipc.mkfifo(f"{work}/raw")
writer = subprocess.Popen([f"{work}/raw_writer", f"{work}/raw"])
with xipc.open_fifo(f"{work}/raw", "r") as r:
    got = [r.receive() for _ in range(3)]
assert writer.wait(10) == 0
assert got == [b"one fragment", b"three fragments", b""], got
print("C (plain write) -> Python receive: single, multi-fragment and empty records")
PY

# 3. Python send -> plain C reader over a Unix socket.
"$python" - "$work" <<'PY'
import subprocess, sys, xipc
work = sys.argv[1]
with xipc.unix_listen(f"{work}/sock") as listener:
    reader = subprocess.Popen([f"{work}/raw_reader", f"{work}/sock"], stdout=subprocess.PIPE)
    with listener.accept(timeout=10) as s:
        assert s.peer_credentials().pid == reader.pid
        for word in (b"alpha", b"", b"gamma" * 300):
            s.send(word)
    out, _ = reader.communicate(timeout=10)
assert reader.returncode == 0
assert out == b"alpha\n\n" + b"gamma" * 300 + b"\n", out[:40]
print("Python -> C (plain read) over a Unix socket, peer pid checked")
PY
echo "stream_c_python: ok"
