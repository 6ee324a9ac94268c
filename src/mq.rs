//! POSIX message queues (issue 3).
