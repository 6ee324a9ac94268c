"""Shared pytest fixtures of the Python tests."""

import importlib
import warnings

import pytest


@pytest.fixture(scope="session")
def stdlib_xdrlib():
    """The standard library's xdrlib, the reference xipc.xdr must match.
    It ships with Python up to 3.12; the cross-checks need one of those."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module("xdrlib")
    except ImportError:
        pytest.fail("the stdlib module xdrlib is missing: run the tests with Python 3.11 or 3.12")
