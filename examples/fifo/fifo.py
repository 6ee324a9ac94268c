"""Messages through a FIFO between unrelated processes.
    python3 fifo.py read /tmp/demo.fifo          (creates it, prints messages)
    python3 fifo.py write /tmp/demo.fifo hello   (sends each word)"""

import sys

import xipc

role, path, *words = sys.argv[1:]
if role == "read":
    try:
        xipc.mkfifo(path)
    except FileExistsError:
        pass
    with xipc.open_fifo(path, "r") as reader:
        while True:
            try:
                print(reader.receive().decode())
            except xipc.errors.ConnectionClosed:
                break
else:
    with xipc.open_fifo(path, "w") as writer:
        for word in words:
            writer.send(word.encode())
