"""The sample `everything` value of tests/gen/every.x, built with a module
that `xipc gen --lang python` generated (from every.x, or from compat.x,
which lacks the quadruple fields). The C (every_fill.h) and Rust
(tests/idl_rust.rs) tests build the same value."""


def point(m, k, quad):
    kw = dict(x=0.5 * k, y=1e10 + k, h=-1 - k, uh=1 + k, flag=bool(k % 2))
    if quad:
        kw["q"] = bytes(range(k, k + 16))
    return m.point(**kw)


def node_list(m, values):
    head = None
    for v in reversed(values):
        head = m.node(value=v, next=head)
    return head


def sample(m, quad=True):
    kw = dict(
        i=-123456, u=4000000000, ui=7, h=-1234567890123, uh=18000000000000000000,
        f=1.5, d=-2.25, b=True, c=m.color.BLUE, sh=m.shape.OTHER,
        ch=65, sho=-2, lo=100000, uch=200,
        fo=b"abcde", vo=b"xyz", bo=b"", s="hello world", bs="bounded",
        fa=[1, 2, 3], va=[10, 20, 30, 40, 50], ba=[-1, -2], bools=[True, False],
        colors=[m.RED, m.BLUE], ds=[3.5], pts=[point(m, 1, quad)],
        fpts=[point(m, 2, quad), point(m, 3, quad)], n="nm", ns=["a", "bc"],
        list=node_list(m, [1, 2, 3]), list2=None, opt=point(m, 4, quad),
        r=m.result(m.GREEN, "ok"), sp=point(m, 5, quad), ec=m.GREEN,
        m=m.maybe(99, b"hi"), fl=m.flagged(True, "me"), co=m.counted(5, None),
        il=[0], bl=b"blob", bi=[1, 2, 3], pal=[m.RED, m.GREEN],
    )
    if quad:
        kw["q"] = bytes(range(16))
    return m.everything(**kw)
