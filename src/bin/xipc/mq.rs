//! `xipc mq`: list, inspect, send to, receive from and remove POSIX queues.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::json;
use xipc::mq::{self, MessageQueue, OpenOptions};

use crate::fail::{Context, Failure, Outcome};
use crate::io;

/// Where Linux mounts the mqueue filesystem by convention.
const MQUEUE_DIR: &str = "/dev/mqueue";
/// `statfs` f_type of the mqueue filesystem.
const MQUEUE_MAGIC: nix::sys::statfs::FsType = nix::sys::statfs::FsType(0x1980_0202);

#[derive(Subcommand)]
pub enum MqCommand {
    /// List the queues of this machine, with their sizes and attributes.
    ///
    /// Queues are listed from the mounted mqueue filesystem; where it is not
    /// mounted, the command says how to mount it.
    Ls(LsArgs),
    /// Show one queue's attributes, messages queued and owner.
    Stat(StatArgs),
    /// Send one message.
    Send(SendArgs),
    /// Receive one message (the oldest of the highest priority) to stdout.
    Recv(RecvArgs),
    /// Remove a queue's name (processes that have it open keep using it).
    Rm(RmArgs),
}

#[derive(Args)]
pub struct FsArg {
    /// Where the mqueue filesystem is mounted.
    #[arg(long = "fs", value_name = "DIR", default_value = MQUEUE_DIR)]
    fs: PathBuf,
}

#[derive(Args)]
pub struct LsArgs {
    #[command(flatten)]
    fs: FsArg,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct StatArgs {
    /// The queue name ("/name"; a missing leading slash is added).
    name: String,
    #[command(flatten)]
    fs: FsArg,
    /// Print a JSON object instead of "key: value" lines.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct SendArgs {
    /// The queue name ("/name"; a missing leading slash is added).
    name: String,
    /// The message: its text, hex with --hex, or "-" to read it from stdin.
    data: String,
    /// Priority, 0 (lowest, the default) to 32767; higher is received first.
    #[arg(long, short = 'p', default_value_t = 0)]
    priority: u32,
    /// DATA is hex ("68 69" or "6869").
    #[arg(long)]
    hex: bool,
    /// Wait at most this many seconds while the queue is full (exit 3 then);
    /// by default wait as long as it takes.
    #[arg(long, short = 't', value_name = "SECONDS", value_parser = io::parse_seconds)]
    timeout: Option<Duration>,
    /// Create the queue when it does not exist.
    #[arg(long, short = 'c')]
    create: bool,
    /// With --create: the most messages the queue holds (default: the system's).
    #[arg(long, value_name = "N", requires = "create")]
    max_messages: Option<usize>,
    /// With --create: the largest message in bytes (default: the system's).
    #[arg(long, value_name = "BYTES", requires = "create")]
    max_size: Option<usize>,
    /// With --create: permission bits, in octal.
    #[arg(long, value_name = "OCTAL", default_value = "600", requires = "create", value_parser = parse_mode)]
    mode: u32,
}

#[derive(Args)]
pub struct RecvArgs {
    /// The queue name ("/name"; a missing leading slash is added).
    name: String,
    /// Wait at most this many seconds for a message (exit 3 then); 0 takes
    /// one only if one is queued. By default wait as long as it takes.
    #[arg(long, short = 't', value_name = "SECONDS", value_parser = io::parse_seconds)]
    timeout: Option<Duration>,
    /// Print the message as hex and a newline instead of its raw bytes.
    #[arg(long)]
    hex: bool,
    /// Print the priority and a space before the message.
    #[arg(long)]
    show_priority: bool,
}

#[derive(Args)]
pub struct RmArgs {
    /// The queue names ("/name"; a missing leading slash is added).
    #[arg(required = true)]
    names: Vec<String>,
}

pub fn run(cmd: MqCommand) -> Outcome {
    match cmd {
        MqCommand::Ls(a) => ls(a),
        MqCommand::Stat(a) => stat(a),
        MqCommand::Send(a) => send(a),
        MqCommand::Recv(a) => recv(a),
        MqCommand::Rm(a) => rm(a),
    }
}

fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("{text:?} is not an octal mode between 0 and 777"))
}

/// "/name" from "name" or "/name"; then the library's own name check.
fn queue_name(name: &str) -> Outcome<String> {
    let name = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/{name}")
    };
    mq::validate_name(&name)?;
    Ok(name)
}

/// Fails with how to mount the mqueue filesystem unless it is mounted at `dir`.
fn require_mounted(dir: &Path) -> Outcome {
    let mounted = nix::sys::statfs::statfs(dir)
        .map(|s| s.filesystem_type() == MQUEUE_MAGIC)
        .unwrap_or(false);
    if mounted {
        return Ok(());
    }
    Err(Failure::failed(format!(
        "the mqueue filesystem is not mounted at {dir}, so queues cannot be listed; \
         mount it (as root) with:\n    mkdir -p {dir} && mount -t mqueue none {dir}\n\
         (queues themselves work without it: xipc mq stat/send/recv/rm NAME)",
        dir = dir.display()
    )))
}

/// What the mqueue filesystem and `mq_getattr` say about one queue.
struct QueueInfo {
    name: String,
    /// From mq_getattr; None when the queue cannot be opened (permission).
    attrs: Option<mq::Attributes>,
    /// From the filesystem, when mounted.
    file: Option<FileInfo>,
}

struct FileInfo {
    /// Bytes of message data queued (the file's QSIZE).
    queued_bytes: u64,
    /// The process registered for notification (NOTIFY_PID), 0 for none.
    notify_pid: u64,
    mode: u32,
    uid: u32,
    gid: u32,
}

/// Reads "QSIZE:10 NOTIFY:0 SIGNO:0 NOTIFY_PID:0" and the file's owner.
fn file_info(path: &Path) -> std::io::Result<FileInfo> {
    let meta = std::fs::metadata(path)?;
    let text = std::fs::read_to_string(path)?;
    let field = |key: &str| -> u64 {
        text.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix(':')?.parse().ok())
            .unwrap_or(0)
    };
    Ok(FileInfo {
        queued_bytes: field("QSIZE"),
        notify_pid: field("NOTIFY_PID"),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    })
}

/// Opens `name` read-only and nonblocking, only to read its attributes.
fn attributes(name: &str) -> xipc::Result<mq::Attributes> {
    let q = OpenOptions::new()
        .read(true)
        .write(false)
        .nonblocking(true)
        .open(name)?;
    q.attributes()
}

fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(uid.into())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

fn info_json(q: &QueueInfo) -> serde_json::Value {
    let mut v = json!({ "name": q.name });
    if let Some(a) = &q.attrs {
        v["messages"] = json!(a.current_messages);
        v["max_messages"] = json!(a.max_messages);
        v["max_message_size"] = json!(a.max_message_size);
    }
    if let Some(f) = &q.file {
        v["queued_bytes"] = json!(f.queued_bytes);
        v["notify_pid"] = json!(f.notify_pid);
        v["mode"] = json!(format!("{:04o}", f.mode));
        v["uid"] = json!(f.uid);
        v["gid"] = json!(f.gid);
        v["owner"] = json!(user_name(f.uid));
    }
    v
}

fn ls(args: LsArgs) -> Outcome {
    let dir = &args.fs.fs;
    require_mounted(dir)?;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .context(format_args!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| format!("/{}", e.file_name().to_string_lossy()))
        .collect();
    names.sort();
    let queues: Vec<QueueInfo> = names
        .into_iter()
        .map(|name| {
            let file = file_info(&dir.join(&name[1..])).ok();
            let attrs = attributes(&name).ok();
            QueueInfo { name, attrs, file }
        })
        .collect();
    if args.json {
        let all: Vec<_> = queues.iter().map(info_json).collect();
        return io::print_json(&serde_json::Value::Array(all));
    }
    let width = queues
        .iter()
        .map(|q| q.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<width$}  {:>8} {:>8} {:>8} {:>10}  {:<4}  OWNER\n",
        "NAME", "MESSAGES", "MAXMSG", "MSGSIZE", "BYTES", "MODE"
    );
    let dash = || "-".to_string();
    for q in &queues {
        let (cur, max, size) = q.attrs.map_or_else(
            || (dash(), dash(), dash()),
            |a| {
                (
                    a.current_messages.to_string(),
                    a.max_messages.to_string(),
                    a.max_message_size.to_string(),
                )
            },
        );
        let (bytes, mode, owner) = q.file.as_ref().map_or_else(
            || (dash(), dash(), dash()),
            |f| {
                (
                    f.queued_bytes.to_string(),
                    format!("{:04o}", f.mode),
                    user_name(f.uid),
                )
            },
        );
        out += &format!(
            "{:<width$}  {cur:>8} {max:>8} {size:>8} {bytes:>10}  {mode:<4}  {owner}\n",
            q.name
        );
    }
    io::write_output(None, out.as_bytes())
}

fn stat(args: StatArgs) -> Outcome {
    let name = queue_name(&args.name)?;
    let attrs = attributes(&name).map_err(|e| open_failure(&name, e))?;
    let file = if require_mounted(&args.fs.fs).is_ok() {
        file_info(&args.fs.fs.join(&name[1..])).ok()
    } else {
        None
    };
    let q = QueueInfo {
        name,
        attrs: Some(attrs),
        file,
    };
    let v = info_json(&q);
    if args.json {
        return io::print_json(&v);
    }
    let mut out = String::new();
    for (key, value) in v.as_object().expect("info_json builds an object") {
        let value = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out += &format!("{key}: {value}\n");
    }
    io::write_output(None, out.as_bytes())
}

fn send(args: SendArgs) -> Outcome {
    let name = queue_name(&args.name)?;
    let data = if args.data == "-" {
        io::read_input(None)?
    } else {
        args.data.clone().into_bytes()
    };
    let data = if args.hex {
        let text = String::from_utf8_lossy(&data);
        io::from_hex(&text).map_err(|why| Failure::usage(format!("DATA is not hex: {why}")))?
    } else {
        data
    };
    let mut options = OpenOptions::new();
    options.read(false).write(true);
    if args.create {
        options.create(true).mode(args.mode);
        if let Some(n) = args.max_messages {
            options.max_messages(n);
        }
        if let Some(n) = args.max_size {
            options.max_message_size(n);
        }
    }
    let q = options.open(&name).map_err(|e| match e {
        xipc::Error::NotFound(_) => Failure::not_found(format!(
            "queue {name} does not exist (create it with --create)"
        )),
        e => Failure::from(e).context(format_args!("cannot open queue {name}")),
    })?;
    match args.timeout {
        Some(t) => q.send_timeout(&data, args.priority, t),
        None => q.send(&data, args.priority),
    }
    .context(format_args!("cannot send to {name}"))
}

fn recv(args: RecvArgs) -> Outcome {
    let name = queue_name(&args.name)?;
    let q = open_existing(&name, OpenOptions::new().read(true).write(false))?;
    let mut buf = vec![0; q.max_message_size()];
    let (len, priority) = match args.timeout {
        Some(t) => q.receive_timeout(&mut buf, t),
        None => q.receive(&mut buf),
    }
    .map_err(|e| match e {
        xipc::Error::TimedOut(_) => Failure {
            status: crate::status::TIMED_OUT,
            message: format!("no message arrived on {name} in time"),
        },
        e => Failure::from(e).context(format_args!("cannot receive from {name}")),
    })?;
    let message = &buf[..len];
    let mut out = Vec::with_capacity(len * 2 + 8);
    if args.show_priority {
        out.extend_from_slice(format!("{priority} ").as_bytes());
    }
    if args.hex {
        out.extend_from_slice(io::to_hex(message).as_bytes());
        out.push(b'\n');
    } else {
        out.extend_from_slice(message);
        if io::stdout_is_terminal() && !message.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    io::write_output(None, &out)
}

fn open_existing(name: &str, options: &OpenOptions) -> Outcome<MessageQueue> {
    options.open(name).map_err(|e| open_failure(name, e))
}

/// Why queue `name` could not be opened: "does not exist" (status 4) or
/// the library's error.
fn open_failure(name: &str, err: xipc::Error) -> Failure {
    match err {
        xipc::Error::NotFound(_) => Failure::not_found(format!("queue {name} does not exist")),
        e => Failure::from(e).context(format_args!("cannot open queue {name}")),
    }
}

fn rm(args: RmArgs) -> Outcome {
    let mut failures: Vec<Failure> = Vec::new();
    for name in &args.names {
        let result = queue_name(name).and_then(|name| {
            mq::unlink(&name).map_err(|e| match e {
                xipc::Error::NotFound(_) => {
                    Failure::not_found(format!("queue {name} does not exist"))
                }
                e => Failure::from(e).context(format_args!("cannot remove {name}")),
            })
        });
        if let Err(f) = result {
            failures.push(f);
        }
    }
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0)),
        n => {
            for f in &failures[..n - 1] {
                eprintln!("xipc: {}", f.message);
            }
            Err(failures.pop().expect("n > 1"))
        }
    }
}
