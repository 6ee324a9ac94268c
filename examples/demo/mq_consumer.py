"""The demo's Python consumer: takes the C producer's jobs from a POSIX
message queue (highest priority first, as the queue hands them out),
decodes them from XDR and removes the queue.

    job: struct { unsigned id; string what<64>; }

    python3 mq_consumer.py /queue-name COUNT
"""

import sys

import xipc
from xipc import xdr


def main(name: str, count: int) -> None:
    with xipc.MessageQueue(name, write=False) as queue:
        jobs = []
        for _ in range(count):
            message, priority = queue.receive(timeout=10)
            u = xdr.Unpacker(message, strict=True)
            job_id, what = u.unpack_uint(), u.unpack_string().decode()
            u.done()
            jobs.append((priority, job_id, what))
        queue.unlink()
    print("Python consumer: got " + ", ".join(f'job {i} "{w}" (priority {p})' for p, i, w in jobs))
    # The producer numbers its jobs in the order it sends them.
    in_order = jobs == sorted(jobs, key=lambda job: (-job[0], job[1]))
    print("Python consumer: " + ("highest priority first; same priority in the order sent"
                                 if in_order else "NOT in priority order"))
    if not in_order:
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: mq_consumer.py /queue-name COUNT")
    main(sys.argv[1], int(sys.argv[2]))
