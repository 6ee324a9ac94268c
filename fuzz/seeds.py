#!/usr/bin/env python3
"""Writes the committed seed corpora, fuzz/corpus/<target>/<name>: small,
well-formed inputs (and a few hostile ones) from which each fuzz target
starts. Run from anywhere: python3 fuzz/seeds.py"""

import shutil
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"


# ---- XDR, RFC 4506 ----

def u32(v): return struct.pack(">I", v & 0xFFFFFFFF)
def i32(v): return struct.pack(">i", v)
def u64(v): return struct.pack(">Q", v)
def i64(v): return struct.pack(">q", v)
def f32(v): return struct.pack(">f", v)
def f64(v): return struct.pack(">d", v)
def pad(b): return b + b"\0" * (-len(b) % 4)
def opaque(b): return u32(len(b)) + pad(b)
def string(s): return opaque(s.encode())
def array(items): return u32(len(items)) + b"".join(items)
def optional(x): return u32(0) if x is None else u32(1) + x


def point(flag=True):
    return f32(1.5) + f64(-2.25) + i64(-3) + u64(4) + u32(flag) + bytes(range(16))


def node_list(values):
    out = b""
    for i, v in enumerate(values):
        out += i32(v) + u32(i + 1 < len(values))
    return out


def everything():
    """tests/gen/every.x `struct everything`, field by field."""
    return b"".join([
        i32(-1), u32(2), u32(3), i64(-4), u64(5), f32(6.5), f64(7.25),
        u32(1),                       # b
        u32(16), u32(7),              # c = BLUE, sh = TRI
        bytes(16),                    # q
        i32(9), i32(10), i32(11), u32(12),
        pad(b"fixed"),                # fo[5]
        opaque(b"var"), opaque(b"bounded"),
        string("string"), string("bs"),
        i32(1) + i32(2) + i32(3),     # fa[3]
        array([i32(4), i32(5)]), array([i32(6)]),
        u32(1) + u32(0),              # bools[2]
        array([u32(0), u32(1)]),      # colors
        array([f64(0.5)]),            # ds
        array([point()]),             # pts
        point() + point(False),       # fpts[2]
        string("name"),
        array([string("a"), string("bc")]),
        optional(node_list([1, 2])),  # list
        optional(None),               # list2
        optional(point()),            # opt
        u32(1) + string("green"),     # r: GREEN
        point(),                      # sp
        u32(0),                       # ec
        i32(1) + point(),             # m: case 1
        u32(1) + string("who"),       # fl: TRUE
        u32(9),                       # co: default
        array([i32(-7)]), opaque(b"\1\2\3"),
        u64(1) + u64(2) + u64(3),     # bi[3]
        u32(1) + u32(16),             # pal[2]
    ])


# ---- ONC RPC, RFC 5531 ----

EVERYPROG = 0x20000099


def auth_sys(machine="host", uid=1000, gid=100, gids=(4, 24)):
    return u32(7) + string(machine) + u32(uid) + u32(gid) + array([u32(g) for g in gids])


def call(xid, prog, vers, proc, args=b"", flavor=0, cred=b""):
    return (u32(xid) + u32(0) + u32(2) + u32(prog) + u32(vers) + u32(proc)
            + u32(flavor) + opaque(cred) + u32(0) + opaque(b"") + args)


def reply_accepted(xid, stat, tail=b""):
    return u32(xid) + u32(1) + u32(0) + u32(0) + opaque(b"") + u32(stat) + tail


def reply_denied(xid, body):
    return u32(xid) + u32(1) + u32(1) + body


# ---- record marking, RFC 5531 section 11 ----

def record(msg, fragment=None):
    fragment = fragment or max(len(msg), 1)
    chunks = [msg[i:i + fragment] for i in range(0, len(msg), fragment)] or [b""]
    return b"".join(u32(len(c) | (0x80000000 if i == len(chunks) - 1 else 0)) + c
                    for i, c in enumerate(chunks))


def seeds():
    s = {}
    # xdr_decoder: [limits, n, ops, data]; see the target for the op codes.
    ops = bytes([0, 1, 3, 4, 11, 14, 19, 16, 26, 0, 27, 31])
    data = (i32(-5) + u32(7) + u32(1) + i64(-9) + opaque(b"opaque") + string("text")
            + array([u32(1), u32(2)]) + u32(1) + i32(3))
    s["xdr_decoder/scalars_and_items"] = bytes([0, len(ops)]) + ops + data
    s["xdr_decoder/tiny_limits"] = bytes([1, 3, 11, 19, 31]) + opaque(b"longer than eight") + array([u32(1)] * 5)
    ops = bytes([28, 29, 31])
    s["xdr_decoder/serde_reads"] = (bytes([2, len(ops)]) + ops + u32(1) + array([u32(5), u32(6)])
                                    + u32(0) + string("s") + i32(-2))
    ops = bytes([24 | 0x60, 25 | 0x40, 18 | 0x20, 23, 15 | 0x20, 10 | 0x20, 30, 31])
    s["xdr_decoder/bulk_reads"] = (bytes([3, len(ops)]) + ops + i32(1) + i32(2) + i32(3)
                                   + u64(4) + u64(5) + array([i32(6)]) + array([f64(7.0)])
                                   + u32(1) + u32(9) + pad(b"fiver"))

    # xdr_serde: [limits, Message].
    shapes = array([u32(0), u32(1) + f64(2.5), u32(2) + i32(1) + i32(2),
                    u32(3) + u32(3) + array([i32(0) + i32(0), i32(1) + i32(1)]),
                    u32(4) + array([u32(0)])])
    inner = (u32(1) + i32(-2) + u32(3) + i32(-4) + u32(5) + i64(-6) + u64(7) + f32(8.5)
             + f64(9.25) + u32(1) + u32(ord("x")) + string("name") + string("label")
             + opaque(b"blob") + opaque(b"raw") + array([u32(1), u32(2)]) + i32(1) + i32(2)
             + i32(3) + u64(4) + u32(0) + u32(42))
    s["xdr_serde/message"] = b"\0" + inner + shapes + optional(inner + array([]) + optional(None))
    s["xdr_serde/shapes"] = b"\2" + shapes

    # xdr_generated: [type and limits, value]; see the target for the selector.
    s["xdr_generated/everything"] = b"\0" + everything()
    s["xdr_generated/node"] = b"\2" + node_list([1, 2, 3])
    s["xdr_generated/point"] = b"\3" + point()
    s["xdr_generated/result_red"] = b"\4" + u32(0) + i32(5)
    s["xdr_generated/maybe_default"] = b"\5" + i32(9) + opaque(b"dflt")
    s["xdr_generated/maybe_neg2"] = b"\5" + i32(-2) + i64(77)
    s["xdr_generated/flagged"] = b"\6" + u32(1) + string("who")
    s["xdr_generated/counted"] = b"\7" + u32(1) + i32(-1)
    s["xdr_generated/names"] = b"\x0c" + array([string("a"), string("b")])
    s["xdr_generated/everything_tiny"] = b"\x10" + everything()

    # record: [max_record / 4, max_fragments, stream].
    s["record/two_messages"] = bytes([64, 8]) + record(b"hello") + record(b"world!!!")
    s["record/fragments"] = bytes([64, 8]) + record(bytes(range(40)), 12)
    s["record/empty_fragments"] = bytes([4, 3]) + u32(0) * 4 + u32(0x80000000)
    s["record/too_large"] = bytes([2, 8]) + u32(0x80000010) + bytes(16)
    s["record/truncated"] = bytes([64, 8]) + record(b"whole") + u32(0x80000008) + b"half"

    # rpc_message: calls to the every-construct program, and replies.
    s["rpc_message/null"] = call(1, EVERYPROG, 1, 0)
    s["rpc_message/add_auth_sys"] = call(2, EVERYPROG, 1, 2, i32(40) + i32(2), 1, auth_sys())
    s["rpc_message/echo"] = call(3, EVERYPROG, 1, 1, everything())
    s["rpc_message/list"] = call(4, EVERYPROG, 1, 4, i32(3))
    s["rpc_message/concat"] = call(5, EVERYPROG, 1, 5, string("ab") + string("cd"))
    s["rpc_message/check"] = call(6, EVERYPROG, 1, 6, optional(point()))
    s["rpc_message/ping_v2"] = call(7, EVERYPROG, 2, 0)
    s["rpc_message/rpcvers_3"] = call(8, EVERYPROG, 1, 0)[:8] + u32(3) + call(8, EVERYPROG, 1, 0)[12:]
    s["rpc_message/reply_success"] = reply_accepted(9, 0, i32(42))
    s["rpc_message/reply_prog_mismatch"] = reply_accepted(10, 2, u32(1) + u32(2))
    s["rpc_message/reply_rpc_mismatch"] = reply_denied(11, u32(0) + u32(2) + u32(2))
    s["rpc_message/reply_auth_error"] = reply_denied(12, u32(1) + u32(1))

    # rpcbind: [peer, call, ~XIPC~, call, ...].
    sep = b"~XIPC~"
    mapping = u32(0x20000001) + u32(1) + u32(6) + u32(2049)

    def rpcb(netid, addr, owner=""):
        return u32(0x20000001) + u32(1) + string(netid) + string(addr) + string(owner)

    v2 = [call(20 + p, 100000, 2, p, mapping) for p in (1, 3)] + [call(23, 100000, 2, 4)]
    v2.append(call(24, 100000, 2, 2, mapping))
    s["rpcbind/portmap_v2"] = b"\0" + sep.join(v2)
    v34 = [call(30, 100000, 3, 1, rpcb("tcp", "0.0.0.0.8.1", "me")),
           call(31, 100000, 3, 3, rpcb("tcp", "")),
           call(32, 100000, 4, 9, rpcb("tcp", "")),
           call(33, 100000, 4, 4),
           call(34, 100000, 3, 6),
           call(35, 100000, 4, 2, rpcb("", ""))]
    s["rpcbind/rpcbind_v3_v4"] = b"\3" + sep.join(v34)
    s["rpcbind/auth_sys_set"] = b"\1" + call(40, 100000, 2, 1, mapping, 1, auth_sys())

    # rpc_client: [op, how, reply]; how 1 = the call's xid patched in, one record.
    def ok(tail):
        return reply_accepted(0, 0, tail)

    s["rpc_client/call_success"] = bytes([0, 1]) + ok(b"args")
    s["rpc_client/call_two_fragments"] = bytes([0, 5]) + ok(b"args")
    s["rpc_client/call_prog_mismatch"] = bytes([0, 1]) + reply_accepted(0, 2, u32(1) + u32(3))
    s["rpc_client/call_auth_error"] = bytes([0, 1]) + reply_denied(0, u32(1) + u32(1))
    s["rpc_client/call_wrong_xid"] = bytes([0, 0]) + ok(b"args")
    s["rpc_client/getport"] = bytes([1, 1]) + ok(u32(2049))
    entries = [u32(1) + mapping, u32(1) + u32(100000) + u32(2) + u32(17) + u32(111)]
    s["rpc_client/dump_v2"] = bytes([2, 1]) + ok(b"".join(entries) + u32(0))
    s["rpc_client/set"] = bytes([3, 1]) + ok(u32(1))
    s["rpc_client/unset"] = bytes([4, 1]) + ok(u32(0))
    s["rpc_client/getaddr"] = bytes([5, 1]) + ok(string("127.0.0.1.8.1"))
    s["rpc_client/getaddr_empty"] = bytes([6, 1]) + ok(string(""))
    s["rpc_client/rpcb_dump"] = bytes([7, 1]) + ok(
        u32(1) + rpcb("tcp", "0.0.0.0.0.111", "superuser") + u32(0))
    s["rpc_client/rpcb_dump_v4"] = bytes([7, 0x81]) + ok(u32(0))
    return s


def main():
    for path, data in seeds().items():
        target, name = path.split("/")
        (CORPUS / target).mkdir(parents=True, exist_ok=True)
        (CORPUS / target / name).write_bytes(data)
    idl = CORPUS / "idl_parse"
    idl.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE.parent / "tests" / "gen" / "every.x", idl / "every.x")
    (idl / "small.x").write_text(
        "const N = 4;\n"
        "typedef string label<N>;\n"
        "enum kind { A = 1, B = 2 };\n"
        "union u switch (kind k) { case A: int a; default: void; };\n"
        "struct s { label l; u v; s *next; };\n"
        "program P { version V { s GET(int) = 1; } = 1; } = 0x20000001;\n")
    (idl / "preprocessor.x").write_text(
        "#define MAX 8\n#ifdef RPC_XDR\n%#include <stdio.h>\n#else\nconst NOT = 1;\n#endif\n"
        "#if MAX > 4\ntypedef opaque buf<MAX>;\n#endif\n")


if __name__ == "__main__":
    main()
