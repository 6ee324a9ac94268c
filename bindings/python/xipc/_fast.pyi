# Types of the optional C module xipc._fast (see _fast.c). Internal: its
# classes are the bases of xipc.MessageQueue, xipc.Stream and
# xipc.rpc.Client when it is built.
from typing import Any

class QueueBase:
    _handle: int | None
    _capacity: int
    def send(self, data: Any, priority: int = 0, timeout: float | None = None) -> None: ...
    def receive(self, timeout: float | None = None) -> tuple[bytes, int]: ...

class StreamBase:
    _h: int | None
    def send(self, data: Any) -> None: ...
    def receive(self) -> bytes: ...

class ClientBase:
    _ch: int | None
    def call(self, procedure: int, args: Any = b"") -> bytes: ...

def bind(mq_send: int, mq_receive: int, stream_send: int, stream_receive: int,
         rpc_client_call: int, bytes_free: int) -> None: ...
