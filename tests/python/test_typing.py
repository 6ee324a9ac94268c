"""The package is typed: `mypy --strict` accepts a program that uses every
public name (tests/python/typing/every_name.py), and finds the package's own
code clean too (it is checked from the source tree, not as an installed
library whose errors mypy would hide)."""

import ast
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROGRAM = HERE / "typing" / "every_name.py"
PACKAGE = HERE.parent.parent / "bindings" / "python"
#: The modules whose public names (their __all__) the program must use.
MODULES = ["xipc.errors", "xipc.xdr", "xipc.mq", "xipc.stream", "xipc.rpc", "xipc.rpcbind"]


def used_names(path: Path) -> set[str]:
    """Every `module.name` and `from module import name` in a program, as
    dotted names with the module spelled out."""
    tree = ast.parse(path.read_text())
    aliases = {"xipc": "xipc"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("xipc"):
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    names = set(aliases.values())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts = []
            inner: ast.expr = node
            while isinstance(inner, ast.Attribute):
                parts.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in aliases:
                prefix = aliases[inner.id]
                for attr in reversed(parts):
                    prefix = f"{prefix}.{attr}"
                    names.add(prefix)
    return names


def test_the_program_uses_every_public_name():
    used = used_names(PROGRAM)
    missing = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if f"{module_name}.{name}" not in used:
                missing.append(f"{module_name}.{name}")
    import xipc
    for name in xipc.__all__:
        if f"xipc.{name}" not in used:
            missing.append(f"xipc.{name}")
    assert not missing, f"{PROGRAM.name} does not use: {', '.join(missing)}"


def test_mypy_strict_accepts_the_program_and_the_package():
    if shutil.which("mypy") is None and importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is missing: run make deps (pip install mypy)")
    env = dict(os.environ, MYPYPATH=str(PACKAGE))
    config = HERE / "typing" / "mypy.ini"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", str(config),
         str(PROGRAM), str(PACKAGE / "xipc")],
        cwd=PACKAGE, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr


def test_signatures_show_through_the_c_module():
    """The hot methods, written in C when the C module is built, show the
    same signatures to inspect (and help()) as their Python fallbacks."""
    import inspect

    import xipc

    def params(method):
        return list(inspect.signature(method).parameters)

    assert params(xipc.MessageQueue.send) == ["self", "data", "priority", "timeout"]
    assert params(xipc.MessageQueue.receive) == ["self", "timeout"]
    assert params(xipc.Stream.send) == ["self", "data"]
    assert params(xipc.Stream.receive) == ["self"]
    reader, writer = xipc.pipe()
    with reader, writer:
        assert params(writer.send) == ["data"]  # bound: no self
        assert params(reader.receive) == []
    assert params(xipc.rpc.Client.call) == ["self", "procedure", "args"]
