"""Sends each argument as one message to a POSIX message queue.

    python3 send.py /demo 5 hello world
"""

import sys

import xipc


def main(name: str, priority: int, messages: list[str]) -> None:
    with xipc.MessageQueue(name, create=True, max_messages=10, max_message_size=1024,
                           read=False) as queue:
        for text in messages:
            queue.send(text.encode(), priority, timeout=5)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
