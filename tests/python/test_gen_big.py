"""Generated Python for tests/gen/big (store.x importing common.x): typed
(PEP 484 hints on constructors, attributes and stubs), defaults that are
the value all-zero bytes decode to, fields named like their types, 64-bit
constants, and out-of-range values reported with the type and field."""

import importlib
import os
import pathlib
import subprocess
import sys
import typing

import pytest

from test_gen import xipc_bin

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIG = ROOT / "tests" / "gen" / "big"


@pytest.fixture(scope="module")
def mods(tmp_path_factory):
    out = tmp_path_factory.mktemp("big")
    for x in ["common.x", "store.x"]:
        subprocess.run([xipc_bin(), "gen", "-q", "-l", "python", "-o", str(out), str(BIG / x)], check=True)
    sys.path.insert(0, str(out))
    yield importlib.import_module("common"), importlib.import_module("store")
    sys.path.remove(str(out))


def test_the_value_has_the_bytes_c_and_rust_give(mods):
    want = "".join((BIG / "value.hex").read_text().split())
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    got = subprocess.run([sys.executable, str(BIG / "value.py")], check=True, capture_output=True,
                         text=True, env=env).stdout.strip()
    assert got == want


def test_defaults_are_what_zero_bytes_decode_to(mods):
    common, store = mods
    it = store.item()
    assert (it.status, it.level) == (common.READY, common.NONE)  # no item 0: the first; else 0
    assert (it.change.kind, it.change.value) == (1, "")  # 0 is no case, no default: first case
    assert (it.state.s, it.state.value) == (common.BUSY, 0)
    assert (it.flagged.on, it.flagged.value) == (False, None)
    assert (it.extra.tag, it.extra.value) == (0, b"")  # the default arm
    assert it.owner is None and it.vector == [0, 0, 0] and it.q == bytes(16)
    assert store.item.from_bytes(it.to_bytes()) == it
    # A discriminant alone takes its arm's default value.
    assert store.flagged(True).value == 0
    assert store.state(common.GONE).value == ""


def test_fields_named_like_their_types(mods):
    common, store = mods
    it = store.item(name="x", stamp=common.stamp(seconds=5), status=common.GONE)
    assert (it.name, it.stamp.seconds, it.status) == ("x", 5, common.GONE)
    k = store.key(name="k")
    assert store.key.from_bytes(k.to_bytes()) == k


def test_wide_constants_and_procedure_numbers(mods):
    common, store = mods
    assert (common.U64_MAX, common.I64_MIN, common.OCTAL) == (2**64 - 1, -(2**63), 15)
    assert (store.BIG, store.PUT, store.PUT2, store.LIMIT) == (2**64 - 1, 2, 2, 4)


def test_out_of_range_values_name_the_type_and_field(mods):
    common, store = mods
    with pytest.raises(ValueError, match=r"^stamp\.seconds: 18446744073709551616 is out of range for unsigned hyper"):
        common.stamp(seconds=2**64).to_bytes()
    with pytest.raises(ValueError, match=r"^item\.stamp\.offset: .* out of range for hyper"):
        store.item(stamp=common.stamp(offset=2**63)).to_bytes()
    with pytest.raises(TypeError, match=r"^item\.status: must be a status, not str"):
        store.item(status="GONE").to_bytes()
    with pytest.raises(TypeError, match=r"^item\.vector\[1\]: int must be an int, not str"):
        store.item(vector=[1, "2", 3]).to_bytes()
    with pytest.raises(ValueError, match=r"^item\.str: 2147483648 is out of range for int"):
        store.item(str=2**31).to_bytes()


def test_hints(mods):
    common, store = mods
    hints = typing.get_type_hints(store.item.__init__, vars(store))
    assert hints["name"] == str and hints["stamp"] == common.stamp | None
    assert typing.get_type_hints(store.STORE_V1_Client.get, vars(store))["return"] is store.item


def test_mypy_strict_passes(mods):
    out = pathlib.Path(mods[1].__file__).parent
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                        str(out / "common.py"), str(out / "store.py")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_sm_inter_mon_id_has_a_field_named_like_its_type(tmp_path):
    """sm_inter.x: struct mon_id { string mon_name<>; my_id my_id; }."""
    x = pathlib.Path("/usr/include/rpcsvc/sm_inter.x")
    if not x.exists():
        pytest.fail(f"{x} missing: install rpcsvc-proto (make deps)")
    subprocess.run([xipc_bin(), "gen", "-q", "-l", "python", "-o", str(tmp_path), str(x)], check=True)
    sys.path.insert(0, str(tmp_path))
    try:
        sm = importlib.import_module("sm_inter")
        m = sm.mon_id(mon_name="x")
        assert m.my_id == sm.my_id() and sm.mon().mon_id == sm.mon_id()
        assert sm.mon_id.from_bytes(m.to_bytes()) == m
    finally:
        sys.path.remove(str(tmp_path))
