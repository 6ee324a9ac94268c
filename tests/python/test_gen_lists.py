"""Linked lists (tests/gen/lists.x) in generated Python: a chain whose last
field points to its own struct is encoded, decoded, compared and printed in
a loop, so lists of 10,000 nodes and more go through whatever Python's
recursion limit, to exactly the bytes of the recursive definition (built
here with struct.pack). A cut list fails with the usual errors; a tree (two
links to itself) stays recursive and fails cleanly past the limit."""

import importlib
import os
import pathlib
import struct
import subprocess
import sys

import pytest

from xipc.errors import LimitExceeded, MalformedXdr

ROOT = pathlib.Path(__file__).resolve().parents[2]
N = 10_000
NAMES = ["n" * k for k in range(7)]


def xipc_bin():
    path = os.environ.get("XIPC_BIN", str(ROOT / "target" / "release" / "xipc"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built: run `make all`")
    return path


@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen_lists")
    subprocess.run(
        [xipc_bin(), "gen", "-l", "python", "--base", "gen_lists", "-o", str(out), str(ROOT / "tests" / "gen" / "lists.x")],
        check=True,
    )
    sys.path.insert(0, str(out))
    yield importlib.import_module("gen_lists")
    sys.path.remove(str(out))


def entries(m, n):
    head = None
    for i in reversed(range(n)):
        head = m.entry(fileid=i, name=NAMES[i % 7], next=head)
    return head


def entries_xdr(n):
    out = bytearray()
    for i in range(n):
        name = NAMES[i % 7].encode()
        out += struct.pack(">II", i, len(name)) + name + b"\0" * (-len(name) & 3)
        out += struct.pack(">I", int(i + 1 < n))
    return bytes(out)


def check_entries(node, n):
    for i in range(n):
        assert (node.fileid, node.name) == (i, NAMES[i % 7])
        node = node.next
    assert node is None


class low_recursion_limit:
    """No codec call may nest per node: run with a limit of 100 frames."""

    def __enter__(self):
        self.old = sys.getrecursionlimit()
        sys.setrecursionlimit(100)

    def __exit__(self, *exc):
        sys.setrecursionlimit(self.old)


def test_ten_thousand_entries_round_trip(lists):
    head = entries(lists, N)
    want = entries_xdr(N)
    assert len(want) == 12 * N + 4 * sum((i % 7 + 3) // 4 for i in range(N))
    with low_recursion_limit():
        data = head.to_bytes()
        back = lists.entry.from_bytes(data)
        same = back == head
        text = repr(back)
    assert data == want
    assert same
    check_entries(back, N)
    assert text.startswith("entry(fileid=0, name='', next=entry(fileid=1, name='n', next=")
    assert text.endswith("entry(fileid=9999, name='nnn', next=None)" + ")" * (N - 1))
    assert repr(entries(lists, 3)) == (
        "entry(fileid=0, name='', next=entry(fileid=1, name='n', next=entry(fileid=2, name='nn', next=None)))"
    )
    # Equality looks at every node and at the length.
    back_last = back
    while back_last.next is not None:
        back_last = back_last.next
    back_last.name = "changed"
    assert back != head
    back_last.name = NAMES[(N - 1) % 7]
    assert back == head
    back_last.next = lists.entry(fileid=N)
    assert back != head and head != back

    # Inside a struct, with a field after it.
    d = lists.dirlist(entries=head, eof=True)
    want = struct.pack(">I", 1) + entries_xdr(N) + struct.pack(">I", 1)
    with low_recursion_limit():
        assert d.to_bytes() == want
        back = lists.dirlist.from_bytes(want)
        assert back == d
    assert back.eof is True
    check_entries(back.entries, N)


def test_portmap_and_rpcbind_lists_round_trip(lists):
    head = None
    for i in reversed(range(N)):
        head = lists.pmaplist(map=lists.pmap(prog=100_000 + i, vers=i % 4, prot=6, port=i), next=head)
    want = b"".join(struct.pack(">5I", 100_000 + i, i % 4, 6, i, int(i + 1 < N)) for i in range(N))
    with low_recursion_limit():
        assert head.to_bytes() == want
        back = lists.pmaplist.from_bytes(want)
        assert back == head
    node = back
    for i in range(N):
        assert (node.map.prog, node.map.port) == (100_000 + i, i)
        node = node.next
    assert node is None

    def netid(i):
        return "udp6" if i % 2 else "tcp"

    head = None
    for i in reversed(range(N)):
        head = lists.rp__list(r_netid=netid(i), r_prog=i, rpcb_next=head)
    want = bytearray()
    for i in range(N):
        b = netid(i).encode()
        want += struct.pack(">II", 1, len(b)) + b + b"\0" * (-len(b) & 3) + struct.pack(">I", i)
    want += struct.pack(">I", 0)
    with low_recursion_limit():
        assert lists.rpcblist_ptr.to_bytes(head) == want
        back = lists.rpcblist_ptr.from_bytes(bytes(want))
        assert back == head
    assert lists.rpcblist_ptr.to_bytes(None) == b"\0\0\0\0"


def test_a_cut_list_fails_with_the_usual_errors(lists):
    data = entries_xdr(100)
    at = len(entries_xdr(50))  # where node 50 starts
    assert at == 824
    with pytest.raises(MalformedXdr) as e:
        lists.entry.from_bytes(data[: at + 6])
    assert str(e.value) == f"entry: {at + 6} bytes end before the value is complete"
    with pytest.raises(MalformedXdr) as e:
        lists.entry.from_bytes(data[:at])
    assert str(e.value) == f"entry: {at} bytes end before the value is complete"
    bad = bytearray(data)
    bad[at - 1] = 2
    with pytest.raises(MalformedXdr) as e:
        lists.entry.from_bytes(bytes(bad))
    assert str(e.value) == "optional-data flag must be 0 or 1, found 2 at byte 820"
    # A name past its bound in node 50.
    bad = bytearray(data)
    bad[at + 4 : at + 8] = struct.pack(">I", 256)
    with pytest.raises(LimitExceeded) as e:
        lists.entry.from_bytes(bytes(bad))
    assert str(e.value) == "name length 256 exceeds its bound of 255 at byte 828"


def test_a_long_hostile_list_is_bounded_by_its_input(lists):
    # 300,000 nodes of 20 bytes: nothing recurses; as for arrays, the size
    # of the input is what bounds the work.
    n = 300_000
    data = b"".join(struct.pack(">5I", i, 1, 17, 111, 1) for i in range(n))
    with low_recursion_limit():
        with pytest.raises(MalformedXdr) as e:
            lists.pmaplist.from_bytes(data)
    assert str(e.value) == f"pmaplist: {20 * n} bytes end before the value is complete"
    data = data[:-4] + b"\0\0\0\0"
    with low_recursion_limit():
        v = lists.pmaplist.from_bytes(data)
    count = 0
    while v is not None:
        assert v.map.prog == count
        count += 1
        v = v.next
    assert count == n


def test_a_tree_stays_recursive_and_fails_cleanly_when_too_deep(lists):
    def tree_xdr(depth):
        return b"".join(struct.pack(">iI", i, int(i + 1 < depth)) for i in range(depth)) + b"\0\0\0\0" * depth

    t = lists.tree.from_bytes(tree_xdr(50))
    assert t.to_bytes() == tree_xdr(50)
    assert (t.value, t.left.value, t.right) == (0, 1, None)
    with pytest.raises(LimitExceeded) as e:
        lists.tree.from_bytes(tree_xdr(sys.getrecursionlimit() + 10))
    assert str(e.value) == "tree: nesting too deep"
