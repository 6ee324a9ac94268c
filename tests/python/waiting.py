"""Waiting in a test for a condition that no event announces: it is
polled every millisecond until it holds, or fails the test once the
deadline (a time.monotonic() value) passes. Among such conditions: a
thread asleep in a given system call, and the signal sent to it once it
is (SignalWhenBlocked)."""

import platform
import signal
import threading
import time


def wait_until(what, deadline, cond):
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


# System call numbers, for /proc/self/task/TID/syscall, on the machines
# whose numbers are known here (elsewhere only the thread's state is looked at).
_SYSCALLS = {
    "x86_64": {"read": 0, "poll": 7, "ppoll": 271, "recvfrom": 45,
               "mq_timedsend": 242, "mq_timedreceive": 243},
    "aarch64": {"read": 63, "ppoll": 73, "recvfrom": 207,
                "mq_timedsend": 182, "mq_timedreceive": 183},
}


def blocked(tid, syscalls=()):
    """Whether thread `tid` of this process sleeps in the kernel and, when
    `syscalls` names some and this machine's numbers are known, in one of
    those system calls."""
    with open(f"/proc/self/task/{tid}/stat") as f:
        stat = f.read()
    if stat[stat.rindex(")") + 2] != "S":
        return False
    numbers = _SYSCALLS.get(platform.machine())
    if not syscalls or numbers is None:
        return True
    with open(f"/proc/self/task/{tid}/syscall") as f:
        now = f.read().split()[0]  # a number, or "running"
    return now in {str(numbers[name]) for name in syscalls if name in numbers}


class SignalWhenBlocked(threading.Thread):
    """Signals the main thread with `signum`, `times` times: each once it
    sleeps in the kernel in one of `syscalls` (the call under test), and
    the next only once the Python handler has run (it appends to `seen`:
    the call was interrupted and handed the signal back to Python); the
    last no sooner than `last_after` seconds after `start` (a
    time.monotonic() value). Then calls `then`, which lets the call
    finish. Each wait has a 10 s deadline; `then` is called even when one
    fails, so the call ends, and join() raises the failure."""

    def __init__(self, seen, syscalls, then, signum=signal.SIGUSR1, times=1,
                 start=None, last_after=0.0):
        super().__init__()
        self.caller = threading.main_thread()
        self.seen, self.before = seen, len(seen)
        self.syscalls, self.then = syscalls, then
        self.signum, self.times = signum, times
        self.last_at = (time.monotonic() if start is None else start) + last_after
        self.failure = None
        self.start()

    def run(self):
        deadline = time.monotonic() + 10
        try:
            for i in range(self.times):
                if i == self.times - 1:
                    wait_until("the time of the last signal", deadline,
                               lambda: time.monotonic() >= self.last_at)
                wait_until(f"the call to block in {' or '.join(self.syscalls)}", deadline,
                           lambda: blocked(self.caller.native_id, self.syscalls))
                handled = len(self.seen)
                signal.pthread_kill(self.caller.ident, self.signum)
                wait_until("the signal handler to run", deadline,
                           lambda: len(self.seen) > handled)
        except BaseException as exc:  # noqa: BLE001 - raised by join
            self.failure = exc
        try:
            self.then()
        except BaseException as exc:  # noqa: BLE001 - raised by join
            self.failure = self.failure or exc

    def join(self, timeout=10):
        super().join(timeout)
        assert not self.is_alive(), "the signalling thread is stuck"
        if self.failure is not None:
            raise self.failure
