"""One value of tests/gen/big/store.x, built in Python; prints its XDR
encoding (an item, then a two-node list) in hex. tests/gen/big/value.c and
value.rs build the same value; tests/interop/gen_system_x.sh compares."""

import common
import store
from xipc import wellknown


def value() -> store.item:
    return store.item(
        name="disk",
        stamp=common.stamp(seconds=common.U64_MAX, offset=common.I64_MIN, nanos=7),
        status=common.GONE,
        level=common.LOW,
        handle=b"\x01\x02\x03",
        owner=common.owner(
            token=b"tok",
            cred=wellknown.authsys_parms(stamp=1, machinename="m", uid=2, gid=3, gids=[4, 5]),
            key=b"12345678",
        ),
        change=store.change(2, common.stamp(1, -1, 2)),
        state=store.state(common.GONE, "why"),
        flagged=store.flagged(True, -5),
        extra=store.extra(9, b"ab"),
        vector=[1, -2, 3],
        counters=[common.U64_MAX, 0],
        list=[0.5, -1.0],
        q=bytes(range(16)),
        bytes=True,
        str=-3,
        type=255,
        fixed=b"abcde",
        note="n",
        when=common.stamp(1, 2, 3),
    )


it = value()
chain = store.entry(it=it, next=store.entry(it=store.item()))
data = it.to_bytes() + chain.to_bytes()
assert store.item.from_bytes(it.to_bytes()) == it
assert store.entry.from_bytes(chain.to_bytes()) == chain
print(data.hex())
