"""Records a benchmark figure against its bar for the summary `make bench`
ends with (see benches/targets.bash, whose `bench_target` writes the same
lines): one line per figure, four tab-separated fields, appended to the
file XIPC_BENCH_TARGETS names. Unset (one benchmark run alone), nothing is
recorded."""

import os


def record(what: str, value: float, op: str, bar: float) -> None:
    """Records `value` against `bar`; `op` is "<=" or ">="."""
    assert op in ("<=", ">="), op
    path = os.environ.get("XIPC_BENCH_TARGETS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{what}\t{value:.2f}\t{op}\t{bar}\n")
