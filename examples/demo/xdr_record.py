"""The demo's Python side: decodes the `sample` record C wrote (see
xdr_record.c for its XDR definition) and answers with its own.

Usage: python3 xdr_record.py IN_FILE OUT_FILE
"""

import sys

from xipc import xdr


def show_hex(who, data):
    groups = [data[i:i + 4].hex() for i in range(0, len(data), 4)]
    lines = [" ".join(groups[i:i + 8]) for i in range(0, len(groups), 8)]
    print(f"{who} {len(data)} bytes:" + "".join("\n    " + line for line in lines))


def main(in_path, out_path):
    with open(in_path, "rb") as f:
        data = f.read()
    show_hex("Python: receives", data)
    u = xdr.Unpacker(data, strict=True)
    sensor = u.unpack_string().decode()
    seq = u.unpack_uint()
    time_ns = u.unpack_hyper()
    values = u.unpack_double_array()
    ok = u.unpack_bool()
    u.done()
    print(f'Python: sample{{sensor="{sensor}", seq={seq}, time_ns={time_ns}, '
          f'values={values.tolist()}, ok={str(ok).lower()}}}')

    mean = sum(values) / len(values)
    p = xdr.Packer()
    p.pack_string(b"python-mean")
    p.pack_uint(seq + 1)
    p.pack_hyper(time_ns + 1_000_000)
    p.pack_double_array([mean, min(values), max(values)])
    p.pack_bool(True)
    reply = p.get_buffer()
    show_hex("Python: answers", reply)
    with open(out_path, "wb") as f:
        f.write(reply)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: xdr_record.py IN_FILE OUT_FILE")
    main(sys.argv[1], sys.argv[2])
