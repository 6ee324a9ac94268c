"""A parent hands the writing end of a pipe to a child process, which sends
framed messages back. Run: python3 pipe.py"""

import os
import subprocess
import sys

import xipc

if len(sys.argv) == 2:  # the child
    with xipc.Stream.from_fd(int(sys.argv[1])) as writer:
        for i in range(1, 4):
            writer.send(f"message {i} from child {os.getpid()}".encode())
    sys.exit()

reader, writer = xipc.pipe()
child = subprocess.Popen([sys.executable, __file__, str(writer.fileno())],
                         pass_fds=[writer.fileno()])
writer.close()  # only the child writes now: its exit ends the stream
while True:
    try:
        print("parent got:", reader.receive().decode())
    except xipc.errors.ConnectionClosed:
        break
child.wait()
