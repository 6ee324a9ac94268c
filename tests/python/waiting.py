"""Waiting in a test for a condition that no event announces: it is
polled every millisecond until it holds, or fails the test once the
deadline (a time.monotonic() value) passes."""

import time


def wait_until(what, deadline, cond):
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)
