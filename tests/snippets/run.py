#!/usr/bin/env python3
"""Runs every fenced code block of README.md and docs/src/**/*.md.

    python3 tests/snippets/run.py [--list] [FILE.md ...]

`make test-snippets` (part of `make test`) runs it after `make all`, from
the repository root. A failing block fails the run with its file and line.

Blocks
------
A block opens with three backticks and an info string: the language, then
space-separated attributes. Each Markdown file gets one fresh working
directory; its blocks run there, in order, so a block may use files an
earlier block of the same file wrote.

    c        compiled with cc -Wall -Werror -Iinclude, linked with
             -Ltarget/release -lxipc, and run.
    python   run with python3, the package from bindings/python
             (PYTHONPATH) and the library from target/release
             (XIPC_LIBRARY).
    rust     a complete program with `fn main`. All Rust blocks are built
             first, as the binaries of one cargo project under
             target/snippets (depending on this crate, serde and
             serde_bytes; built in target/snippets-build), in one cargo
             invocation; each is run at its turn.
    sh       run with bash -e; target/release (the `xipc` command) is on
             PATH.
    console  a transcript: each `$ command` line runs in bash (exit status
             0 expected) and what it prints, stdout and stderr, must equal
             the lines that follow it up to the next `$`. A line `...`
             stands for any number of lines, `...` within a line for any
             text, and a run of spaces for any run of spaces (a table's
             columns widen with what else the machine has, such as
             another program's queues).
    x        an RPC-language file: checked with `xipc gen --check`.
    text     output or a diagram: not code, not run.

Any other language (toml, cmake, ...) must carry `no-run`.

Attributes
----------
    no-run       shown, never run: for what cannot run here (an install into
                 the system, a fragment of another tool's file). Use it
                 only where running is impossible.
    file=NAME    the block is written to NAME in the working directory
                 instead of being run (an `x` block is still checked).
    gen=NAME.x   before the block runs, `xipc gen` writes the code of the
                 file=NAME.x block of the same page in the block's language
                 (C: the generated .c files are compiled with the block;
                 Python: the module sits beside the program; Rust: the .rs
                 file sits beside main.rs, for `include!`).
    rpcbind      an embedded rpcbind (`xipc rpcbind`) runs on a free port
                 while the block runs; the environment variable
                 RPCBIND_PORT holds the port.

Every block is limited to 120 seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / "target" / "release"
SNIPPETS_CRATE = ROOT / "target" / "snippets"
SNIPPETS_TARGET = ROOT / "target" / "snippets-build"
BLOCK_SECONDS = 120
RUNNABLE = {"c", "python", "rust", "sh", "console", "x"}
NOT_CODE = {"text"}
FENCE = re.compile(r"^(\s*)```(.*)$")


@dataclass(eq=False)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    attrs: dict[str, str]
    text: str
    slug: str = ""
    files: dict[str, "Block"] = field(default_factory=dict)  # the page's file= blocks

    @property
    def where(self) -> str:
        return f"{rel(self.path)}:{self.line}"


class Failure(Exception):
    pass


def rel(path: Path) -> str:
    """The path from the repository root, for messages and names."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def parse(path: Path) -> list[Block]:
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, info = m.group(1), m.group(2).strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        if i == len(lines):
            raise Failure(f"{rel(path)}:{start + 1}: code block never closed")
        i += 1
        words = info.split()
        lang = words[0] if words else ""
        attrs = {}
        for w in words[1:]:
            key, _, value = w.partition("=")
            attrs[key] = value
        blocks.append(Block(path, start + 1, lang, attrs, "\n".join(body) + "\n"))
    files = {b.attrs["file"]: b for b in blocks if "file" in b.attrs}
    stem = re.sub(r"\W", "_", rel(path).removesuffix(".md")).lower()
    for b in blocks:
        b.files = files
        b.slug = f"{stem}_{b.line}"
    return blocks


def check_attrs(b: Block) -> None:
    known = {"no-run", "file", "gen", "rpcbind"}
    unknown = set(b.attrs) - known
    if unknown:
        raise Failure(f"unknown attribute {', '.join(sorted(unknown))}")
    if not b.lang:
        raise Failure("a code block needs a language (text for output)")
    if b.lang not in RUNNABLE | NOT_CODE and "no-run" not in b.attrs:
        raise Failure(f"blocks of language {b.lang!r} cannot run: mark them no-run")
    if "gen" in b.attrs and b.attrs["gen"] not in b.files:
        raise Failure(f"gen={b.attrs['gen']}: no file={b.attrs['gen']} block on this page")


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{RELEASE}:{env.get('PATH', '')}"
    env["XIPC_LIBRARY"] = str(RELEASE / "libxipc.so")
    py = str(ROOT / "bindings" / "python")
    env["PYTHONPATH"] = py + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> str:
    """Runs cmd in its own process group; returns stdout and stderr together."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(stdin, timeout=BLOCK_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise Failure(f"still running after {BLOCK_SECONDS} s: {' '.join(cmd)}\n{out}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything the block left running
        except ProcessLookupError:
            pass
    if proc.returncode != 0:
        raise Failure(f"exit status {proc.returncode}: {' '.join(cmd)}\n{out}")
    return out


def generate(b: Block, lang: str, outdir: Path, work: Path, env: dict[str, str]) -> None:
    spec = b.attrs["gen"]
    run(["xipc", "gen", "-q", "--lang", lang, "-o", str(outdir), spec], work, env)


# ---- Rust: one cargo project, every block a binary, built once ----------------

CARGO_TOML = """\
[package]
name = "xipc-snippets"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
xipc = {{ path = "{root}", default-features = false }}
serde = {{ version = "1", features = ["derive"] }}
serde_bytes = "0.11"

[workspace]
"""


def build_rust(blocks: list[Block], env: dict[str, str]) -> dict[str, Path]:
    """Builds every Rust block; returns each slug's executable."""
    if not blocks:
        return {}
    bins = SNIPPETS_CRATE / "src" / "bin"
    if bins.exists():
        shutil.rmtree(bins)
    bins.mkdir(parents=True)
    (SNIPPETS_CRATE / "Cargo.toml").write_text(CARGO_TOML.format(root=ROOT))
    lock = SNIPPETS_CRATE / "Cargo.lock"
    if not lock.exists():  # start from the crate's own versions: nothing new to fetch
        shutil.copy(ROOT / "Cargo.lock", lock)
    by_dir = {}
    for b in blocks:
        d = bins / b.slug
        d.mkdir()
        (d / "main.rs").write_text(b.text)
        by_dir[b.slug] = b
        if "gen" in b.attrs:
            spec = b.files[b.attrs["gen"]]
            (d / b.attrs["gen"]).write_text(spec.text)
            generate(b, "rust", d, d, env)
    # A target directory of its own: xipc builds as a cdylib too, so cargo
    # names its library without a hash, and this crate's build of it would
    # overwrite the repository's own in a shared one.
    cargo_env = dict(env, CARGO_TARGET_DIR=str(SNIPPETS_TARGET))
    proc = subprocess.run(["cargo", "build", "--quiet", "--bins"], cwd=SNIPPETS_CRATE,
                          env=cargo_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        out = proc.stdout
        for slug, b in by_dir.items():  # name the Markdown block beside cargo's path
            out = re.sub(rf"src/bin/{slug}/main\.rs:(\d+)",
                         lambda m, b=b: f"{b.where} (line {m.group(1)} of the block)", out)
        raise Failure("cargo build of the Rust blocks failed:\n" + out)
    return {slug: SNIPPETS_TARGET / "debug" / slug for slug in by_dir}


# ---- the other languages ------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rpcbind:
    """`xipc rpcbind` on a free port, answering before the block starts."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> "Rpcbind":
        for _ in range(5):  # another program may take the port between the check and the bind
            self.port = free_port()
            self.proc = subprocess.Popen(["xipc", "rpcbind", "--port", str(self.port)],
                                         env=self.env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
            # Waits until it answers: each ping waits up to 1 s for the reply.
            for _ in range(20):
                ping = subprocess.run(["xipc", "rpc", "ping", "127.0.0.1", "100000", "2",
                                       "--port", str(self.port), "-t", "1"],
                                      env=self.env, capture_output=True)
                if ping.returncode == 0:
                    return self
                if self.proc.poll() is not None:
                    break
            self.__exit__()
        raise Failure("xipc rpcbind did not start")

    def __exit__(self, *_: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def run_c(b: Block, work: Path, env: dict[str, str]) -> str:
    src = work / f"{b.slug}.c"
    src.write_text(b.text)
    sources = [str(src)]
    if "gen" in b.attrs:
        gen = work / f"{b.slug}.gen"
        gen.mkdir(exist_ok=True)
        generate(b, "c", gen, work, env)
        sources += sorted(str(p) for p in gen.glob("*.c"))
        sources = ["-I" + str(gen)] + sources
    exe = work / b.slug
    run([os.environ.get("CC", "cc"), "-Wall", "-Werror", "-g", f"-I{ROOT / 'include'}",
         "-o", str(exe), *sources, f"-L{RELEASE}", f"-Wl,-rpath,{RELEASE}",
         "-lxipc", "-lpthread"], work, env)
    return run([str(exe)], work, env)


def run_python(b: Block, work: Path, env: dict[str, str]) -> str:
    src = work / f"{b.slug}.py"
    src.write_text(b.text)
    if "gen" in b.attrs:
        generate(b, "python", work, work, env)
    return run([sys.executable, str(src)], work, env)


def run_sh(b: Block, work: Path, env: dict[str, str]) -> str:
    return run(["bash", "-e", "-o", "pipefail"], work, env, stdin=b.text)


def run_console(b: Block, work: Path, env: dict[str, str]) -> str:
    steps: list[tuple[str, list[str]]] = []
    for line in b.text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
        elif line.strip():
            raise Failure(f"a console block starts with a `$ command` line, not {line!r}")
    for command, expected in steps:
        out = run(["bash", "-e", "-o", "pipefail", "-c", command], work, env)
        got = out.rstrip("\n").split("\n") if out.strip() else []
        if not matches(expected, got):
            raise Failure(f"$ {command}\nexpected:\n" + "\n".join(expected)
                          + "\ngot:\n" + "\n".join(got))
    return ""


def matches(expected: list[str], got: list[str]) -> bool:
    """Line by line; an expected line `...` matches any number of lines."""
    if not expected:
        return not got
    if expected[0] == "...":
        return any(matches(expected[1:], got[i:]) for i in range(len(got) + 1))
    pattern = ".*".join(
        r"\s+".join(re.escape(word) for word in re.split(r"\s+", part))
        for part in expected[0].rstrip().split("...")
    )
    return (bool(got) and re.fullmatch(pattern, got[0].rstrip()) is not None
            and matches(expected[1:], got[1:]))


def run_x(b: Block, work: Path, env: dict[str, str]) -> str:
    name = b.attrs.get("file") or f"{b.slug}.x"
    (work / name).write_text(b.text)
    return run(["xipc", "gen", "--lang", "c", "--check", name], work, env)


def run_block(b: Block, work: Path, env: dict[str, str], rust_exes: dict[str, Path]) -> str:
    if b.lang == "x":
        return run_x(b, work, env)
    if "file" in b.attrs:
        (work / b.attrs["file"]).write_text(b.text)
        return ""
    if b.lang == "c":
        return run_c(b, work, env)
    if b.lang == "python":
        return run_python(b, work, env)
    if b.lang == "rust":
        return run([str(rust_exes[b.slug])], work, env)
    if b.lang == "sh":
        return run_sh(b, work, env)
    if b.lang == "console":
        return run_console(b, work, env)
    raise AssertionError(b.lang)


MQUEUE = Path("/dev/mqueue")


def queues() -> set[str]:
    """The POSIX queues of this machine, where their filesystem is mounted
    at its usual place (else none are seen)."""
    try:
        return {p.name for p in MQUEUE.iterdir()}
    except OSError:
        return set()


def default_files() -> list[Path]:
    return [ROOT / "README.md"] + sorted((ROOT / "docs" / "src").rglob("*.md"))


def main(argv: list[str]) -> int:
    listing = "--list" in argv
    paths = [Path(a).resolve() for a in argv if a != "--list"] or default_files()
    failures: list[str] = []
    pages: list[list[Block]] = []
    for p in paths:
        try:
            pages.append(parse(p))
        except Failure as e:
            failures.append(str(e))
    runnable: list[Block] = []
    for page in pages:
        for b in page:
            try:
                check_attrs(b)
            except Failure as e:
                failures.append(f"{b.where}: {e}")
                continue
            if b.lang in NOT_CODE or "no-run" in b.attrs:
                continue
            runnable.append(b)
    if listing:
        for b in runnable:
            print(f"{b.where}\t{b.lang}\t{' '.join(sorted(b.attrs))}")
        return 0
    for tool in ("xipc", "libxipc.so"):
        if not (RELEASE / tool).exists():
            print(f"snippets: {RELEASE / tool} is missing: run make first", file=sys.stderr)
            return 1

    env = environment()
    rust_exes: dict[str, Path] = {}
    rust_blocks = [b for b in runnable if b.lang == "rust" and "file" not in b.attrs]
    print(f"snippets: building {len(rust_blocks)} Rust blocks", flush=True)
    try:
        rust_exes = build_rust(rust_blocks, env)
    except Failure as e:
        failures.append(str(e))
        runnable = [b for b in runnable if b not in rust_blocks]

    ran = 0
    for page in pages:
        blocks = [b for b in page if b in runnable]
        if not blocks:
            continue
        queues_before = queues()
        failed_before = len(failures)
        with tempfile.TemporaryDirectory(prefix="xipc-snippets-") as tmp:
            work = Path(tmp)
            for b in blocks:
                try:
                    if "rpcbind" in b.attrs:
                        with Rpcbind(env) as rb:
                            run_block(b, work, dict(env, RPCBIND_PORT=str(rb.port)), rust_exes)
                    else:
                        run_block(b, work, env, rust_exes)
                    ran += 1
                    print(f"ok   {b.where} {b.lang}", flush=True)
                except Failure as e:
                    failures.append(f"{b.where}: {b.lang} block failed: {e}")
                    print(f"FAIL {b.where} {b.lang}", flush=True)
        if len(failures) > failed_before:
            # A block that failed part-way may have left the queues it made
            # (its page removes them as it goes): gone, so the next run
            # starts clean.
            for name in queues() - queues_before:
                (MQUEUE / name).unlink(missing_ok=True)
    for f in failures:
        print(f"\n{f}", file=sys.stderr)
    print(f"snippets: {ran} blocks ran, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
