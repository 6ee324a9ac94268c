"""xipc streams in an asyncio program: the event loop watches the stream's
descriptor with loop.add_reader, and a nonblocking receive takes whatever
whole messages have arrived (a message cut in two by the kernel is kept in
the stream until its rest comes). Run: python3 asyncio_stream.py"""

import asyncio
import os
import time

import xipc


async def main():
    reader, writer = xipc.pipe()
    reader.settimeout(0)  # nonblocking: receive raises BlockingIOError when empty
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue = asyncio.Queue()

    def readable():
        # Take every whole message: some may already sit in the stream's
        # buffer, where the loop's poll cannot see them.
        while True:
            try:
                inbox.put_nowait(reader.receive())
            except BlockingIOError:
                return
            except xipc.errors.ConnectionClosed:
                loop.remove_reader(reader.fileno())
                inbox.put_nowait(None)
                return

    loop.add_reader(reader.fileno(), readable)

    pid = os.fork()
    if pid == 0:  # a writer process, sending a message now and then
        reader.close()
        for i in range(5):
            writer.send(f"tick {i}".encode())
            time.sleep(0.1)
        os._exit(0)
    writer.close()

    while (msg := await inbox.get()) is not None:
        print("got", msg.decode())
    os.waitpid(pid, 0)
    reader.close()


asyncio.run(main())
