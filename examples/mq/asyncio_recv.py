"""Receives COUNT messages from a POSIX message queue inside an asyncio
program, without a thread: the queue's descriptor is readable while a
message is queued, so loop.add_reader tells us when to receive.

    python3 asyncio_recv.py /demo 2
"""

import asyncio
import sys

import xipc


async def receive_messages(queue: xipc.MessageQueue, count: int) -> list[tuple[bytes, int]]:
    loop = asyncio.get_running_loop()
    ready = asyncio.Queue()

    def on_readable() -> None:
        try:
            while True:  # drain: the descriptor stays readable while messages remain
                ready.put_nowait(queue.receive())
        except BlockingIOError:
            pass

    loop.add_reader(queue.fileno(), on_readable)
    try:
        return [await ready.get() for _ in range(count)]
    finally:
        loop.remove_reader(queue.fileno())


async def main(name: str, count: int) -> None:
    with xipc.MessageQueue(name, create=True, max_messages=10, max_message_size=1024,
                           write=False, blocking=False) as queue:
        for message, priority in await asyncio.wait_for(receive_messages(queue, count), 10):
            print(priority, message.decode())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
