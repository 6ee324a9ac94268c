//! `xipc mq`: a round trip through the command, the listing from the
//! mounted mqueue filesystem, and the exit statuses of every failure.

mod cli_support;

use cli_support::{xipc, xipc_with, TempDir};

/// A queue name unique to this test process, removed on drop.
struct Queue(String);

impl Queue {
    fn new(tag: &str) -> Queue {
        Queue(format!("/xipc-cli-test-{}-{tag}", std::process::id()))
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        let _ = xipc::mq::unlink(&self.0);
    }
}

#[test]
fn send_stat_recv_rm_round_trip() {
    let q = Queue::new("trip");
    let name = q.0.as_str();
    xipc(&[
        "mq",
        "send",
        name,
        "first",
        "--create",
        "--max-messages",
        "4",
        "--max-size",
        "64",
        "--mode",
        "640",
    ])
    .ok();
    xipc(&["mq", "send", name, "7365636f6e64", "--hex", "-p", "5"]).ok();
    // Binary data from stdin, lowest priority.
    xipc_with(&["mq", "send", name, "-"], &[0, 1, 2, 0xff]).ok();

    let stat = xipc(&["mq", "stat", name]).ok();
    let lines: Vec<&str> = stat.lines().collect();
    assert_eq!(
        &lines[..5],
        &[
            format!("name: {name}").as_str(),
            "messages: 3",
            "max_messages: 4",
            "max_message_size: 64",
            "queued_bytes: 15",
        ]
    );
    assert!(lines.contains(&"mode: 0640"), "{stat}");
    assert!(lines.contains(&"uid: 0") || !is_root(), "{stat}");

    let json: serde_json::Value =
        serde_json::from_str(&xipc(&["mq", "stat", name, "--json"]).ok()).unwrap();
    assert_eq!(json["messages"], 3);
    assert_eq!(json["max_message_size"], 64);
    assert_eq!(json["mode"], "0640");

    // Highest priority first, then in order of arrival.
    assert_eq!(
        xipc(&["mq", "recv", name, "--show-priority"]).ok(),
        "5 second"
    );
    assert_eq!(xipc(&["mq", "recv", name, "--hex"]).ok(), "6669727374\n");
    let raw = xipc(&["mq", "recv", name, "--timeout", "1"]);
    assert_eq!(
        (raw.status, raw.stdout.as_slice()),
        (0, &[0u8, 1, 2, 0xff][..])
    );

    xipc(&["mq", "recv", name, "--timeout", "0.05"]).fails(3, "no message arrived");
    xipc(&["mq", "rm", name]).ok();
    xipc(&["mq", "rm", name]).fails(4, "does not exist");
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

#[test]
fn ls_lists_queues_from_the_mounted_filesystem() {
    let q = Queue::new("ls");
    xipc(&[
        "mq",
        "send",
        &q.0,
        "abc",
        "-c",
        "--max-messages",
        "3",
        "--max-size",
        "16",
    ])
    .ok();
    let out = xipc(&["mq", "ls"]);
    if out.stderr.contains("not mounted") {
        panic!("the mqueue filesystem is not mounted at /dev/mqueue: run scripts/deps.sh as root (mount -t mqueue none /dev/mqueue)");
    }
    let table = out.ok();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "MESSAGES", "MAXMSG", "MSGSIZE", "BYTES", "MODE", "OWNER"]
    );
    let row: Vec<&str> = lines
        .find(|l| l.starts_with(&format!("{} ", q.0)))
        .unwrap_or_else(|| panic!("{} is not listed:\n{table}", q.0))
        .split_whitespace()
        .collect();
    let owner = if is_root() { "root" } else { row[6] };
    assert_eq!(row, [q.0.as_str(), "1", "3", "16", "3", "0600", owner]);

    let all: serde_json::Value = serde_json::from_str(&xipc(&["mq", "ls", "--json"]).ok()).unwrap();
    let mine = all
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == q.0.as_str())
        .expect("listed in JSON");
    assert_eq!(mine["messages"], 1);
    assert_eq!(mine["queued_bytes"], 3);
}

#[test]
fn ls_where_not_mounted_says_how_to_mount() {
    let dir = TempDir::new("mq");
    let run = xipc(&["mq", "ls", "--fs", &dir.path("")]);
    run.fails(1, "mount -t mqueue none ");
    assert!(run.stderr.contains("is not mounted at"), "{}", run.stderr);
}

#[test]
fn failures_have_their_exit_status() {
    let q = Queue::new("fail");
    let name = q.0.as_str();
    // 4: no such queue.
    xipc(&["mq", "send", name, "x"]).fails(4, "create it with --create");
    xipc(&["mq", "recv", name, "-t", "0"]).fails(4, "does not exist");
    xipc(&["mq", "stat", name]).fails(4, &format!("queue {name} does not exist"));
    // 2: usage errors, from clap and from the library's checks.
    xipc(&["mq", "send", "/a/b", "x"]).fails(2, "contains a second \"/\"");
    xipc(&["mq", "send", name, "zz", "--hex"]).fails(2, "not hex");
    xipc(&["mq", "recv", name, "--timeout", "soon"]).fails(2, "not a number of seconds");
    xipc(&["mq", "send", name, "x", "--max-size", "8"]).fails(2, "--create");
    xipc(&["mq", "frobnicate"]).fails(2, "unrecognized subcommand");
    xipc(&[
        "mq",
        "send",
        name,
        "x",
        "-c",
        "--max-messages",
        "2",
        "--max-size",
        "4",
    ])
    .ok();
    xipc(&["mq", "send", name, "x", "-p", "40000"]).fails(2, "priority 40000 is out of range");
    // 1: the operation failed; the queue keeps its message.
    xipc(&["mq", "send", name, "too long"]).fails(1, "message too large");
    // 3: a full queue with a timeout.
    xipc(&["mq", "send", name, "y"]).ok();
    xipc(&["mq", "send", name, "z", "-t", "0.05"]).fails(3, "timed out");
    assert_eq!(xipc(&["mq", "recv", name]).ok(), "x");
    // "name" without its slash is accepted.
    xipc(&["mq", "rm", &name[1..]]).ok();
}

#[test]
fn help_for_every_mq_command() {
    for cmd in ["ls", "stat", "send", "recv", "rm"] {
        let text = xipc(&["mq", cmd, "--help"]).ok();
        assert!(text.contains(&format!("Usage: xipc mq {cmd}")), "{text}");
        assert!(text.contains("Exit status:\n  0  success\n"), "{text}");
    }
    assert!(xipc(&["mq", "--help"]).ok().contains("Exit status:"));
}
