"""xipc.errors against the library's status table: one exception class per
status code of xipc.h (which is generated from the Rust table), each also the
built-in exception docs/src/errors.md names; OS errors by errno."""

import errno
import re
from pathlib import Path

import pytest

import xipc
from xipc import errors
from xipc._lib import lib

HEADER = Path(__file__).resolve().parents[2] / "include" / "xipc.h"

#: The table of docs/src/errors.md: C status, Python class, the built-in it also is.
TABLE = {
    "XIPC_EINVAL": (errors.InvalidArgument, ValueError),
    "XIPC_EAGAIN": (errors.WouldBlock, BlockingIOError),
    "XIPC_ETIMEDOUT": (errors.Timeout, TimeoutError),
    "XIPC_EMSGSIZE": (errors.MessageTooLarge, ValueError),
    "XIPC_ENOENT": (errors.NotFound, FileNotFoundError),
    "XIPC_EEXIST": (errors.AlreadyExists, FileExistsError),
    "XIPC_EPERM": (errors.PermissionDenied, PermissionError),
    "XIPC_ECLOSED": (errors.ConnectionClosed, ConnectionError),
    "XIPC_EXDR": (errors.MalformedXdr, ValueError),
    "XIPC_ELIMIT": (errors.LimitExceeded, ValueError),
    "XIPC_EPROTO": (errors.ProtocolError, ValueError),
    "XIPC_EUNSUPPORTED": (errors.Unsupported, TypeError),
    "XIPC_EINTR": (errors.Interrupted, InterruptedError),
    "XIPC_ETLS": (errors.TlsError, ConnectionError),
    "XIPC_EPROG_UNAVAIL": (errors.ProgramUnavailable, errors.RpcError),
    "XIPC_EPROG_MISMATCH": (errors.ProgramMismatch, errors.RpcError),
    "XIPC_EPROC_UNAVAIL": (errors.ProcedureUnavailable, errors.RpcError),
    "XIPC_EGARBAGE_ARGS": (errors.GarbageArgs, errors.RpcError),
    "XIPC_ESYSTEM_ERR": (errors.SystemError_, errors.RpcError),
    "XIPC_ERPC_MISMATCH": (errors.RpcMismatch, errors.RpcError),
    "XIPC_EAUTH": (errors.AuthError, errors.RpcError),
    "XIPC_EOS": (errors.OSFailure, OSError),
    "XIPC_EINTERNAL": (errors.InternalError, RuntimeError),
}


def header_statuses():
    found = dict(re.findall(r"^#define (XIPC_E[A-Z_]+) (-\d+)$", HEADER.read_text(), re.M))
    return {name: int(value) for name, value in found.items()}


def strerror(code):
    return lib.xipc_strerror(code).decode()


def test_every_status_of_the_header_has_its_class_and_no_other():
    statuses = header_statuses()
    assert set(statuses) == set(TABLE), "statuses in xipc.h and in this table differ"
    assert set(errors.BY_CODE) == set(statuses.values())
    for name, code in statuses.items():
        cls, builtin = TABLE[name]
        assert cls.code == code, name
        assert errors.BY_CODE[code] is cls, name
        assert issubclass(cls, errors.XipcError) and issubclass(cls, builtin), name
        raised = errors.from_code(code, "detail")
        assert type(raised) is cls and raised.code == code, name


def test_the_library_names_exactly_these_statuses():
    codes = set(header_statuses().values())
    for code in range(-64, 1):
        if code in codes or code == 0:
            assert strerror(code) != "unknown status code", code
        else:
            assert strerror(code) == "unknown status code", code


@pytest.mark.parametrize("number, builtin", [
    (errno.ECONNREFUSED, ConnectionRefusedError),
    (errno.ECONNRESET, ConnectionResetError),
    (errno.ECONNABORTED, ConnectionAbortedError),
    (errno.EPIPE, BrokenPipeError),
    (errno.EISDIR, IsADirectoryError),
    (errno.ENOTDIR, NotADirectoryError),
])
def test_os_errors_become_pythons_own_classes(number, builtin):
    e = errors.from_code(errors.OSFailure.code, "connect 127.0.0.1:1", number)
    assert isinstance(e, builtin) and isinstance(e, errors.OSFailure)
    assert e.errno == number and e.code == errors.OSFailure.code
    assert str(e) == f"[Errno {number}] connect 127.0.0.1:1"


def test_other_os_errors_stay_osfailure():
    e = errors.from_code(errors.OSFailure.code, "mq_open", errno.EMFILE)
    assert type(e) is errors.OSFailure and e.errno == errno.EMFILE


def test_unknown_status():
    e = errors.from_code(-99, "what")
    assert type(e) is xipc.XipcError and e.code == -99 and str(e) == "what (status -99)"
