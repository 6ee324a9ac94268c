"""Receives COUNT messages from a POSIX message queue and prints them.

    python3 recv.py /demo 2
"""

import sys

import xipc


def main(name: str, count: int) -> None:
    with xipc.MessageQueue(name, create=True, max_messages=10, max_message_size=1024,
                           write=False) as queue:
        for _ in range(count):
            message, priority = queue.receive(timeout=10)
            print(priority, message.decode())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
