//! Linked lists (tests/gen/lists.x) in generated code: a chain whose last
//! field points to its own struct is encoded and decoded in a loop, so a
//! list of 10,000 nodes goes through with the default limits, to exactly
//! the bytes of the recursive definition (built here by hand with the plain
//! `Encoder`). A cut list fails with the usual error and byte offset, a list
//! larger than `max_alloc` with the limit error; a tree (two links to
//! itself) stays recursive under the depth limit.
//!
//! Rust here, with the committed generated code (kept fresh by a test); C
//! in a program compiled from the generator's output and run under
//! valgrind (tests/gen/lists_main.c).

mod lists {
    include!("gen/lists_norpc.rs");
}

use lists::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use xipc::idl::{generate, Input, Lang, Options, XdrType};
use xipc::xdr::{Decoder, Encoder, Limits};
use xipc::Error;

const N: u32 = 10_000;

fn options() -> Options {
    Options {
        rpc: false,
        base: Some("lists_norpc".into()),
        ..Options::default()
    }
}

#[test]
fn committed_rust_output_is_fresh() {
    let files = generate(&Input::path("tests/gen/lists.x"), Lang::Rust, &options()).unwrap();
    let committed = std::fs::read_to_string("tests/gen/lists_norpc.rs").unwrap();
    assert!(
        files[0].contents == committed,
        "tests/gen/lists_norpc.rs is stale: run `xipc gen -l rust --no-rpc --base lists_norpc -o tests/gen tests/gen/lists.x`"
    );
}

#[test]
fn only_single_self_links_in_last_place_are_lists() {
    let files = generate(&Input::path("tests/gen/lists.x"), Lang::Rust, &options()).unwrap();
    let code = &files[0].contents;
    // The loop's per-node decoder appears once per list struct, and the
    // tree keeps the recursive optional (enter/leave per link).
    assert_eq!(code.matches("fn node(d: &mut").count(), 3);
    assert_eq!(
        code.matches("Some(Box::new(v))").count(),
        4,
        "tree.left, tree.right, dirlist.entries and the typedef rpcblist_ptr"
    );
}

fn name(i: u32) -> String {
    "n".repeat((i % 7) as usize)
}

/// Entries 0..n, built front to back without recursion.
fn entries(n: u32) -> Option<Box<entry>> {
    chain(0..n)
}

/// A chain of entries with these file ids.
fn chain(ids: impl DoubleEndedIterator<Item = u32>) -> Option<Box<entry>> {
    let mut head = None;
    for i in ids.rev() {
        head = Some(Box::new(entry {
            fileid: i,
            name: name(i),
            next: head,
        }));
    }
    head
}

/// The XDR of entries 0..n as the recursive definition lays them out.
fn entries_xdr(e: &mut Encoder, n: u32) {
    for i in 0..n {
        e.put_uint(i);
        e.put_string(&name(i)).unwrap();
        e.put_optional(i + 1 < n);
    }
}

/// Runs `f` on a thread with a stack of 64 KiB: the derived `Drop`,
/// `Clone` and `Debug` of a list of a few thousand nodes would overflow it.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 << 10)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn long_lists_drop_clone_compare_and_print_in_loops() {
    small_stack(|| {
        let list = entries(1_000_000).unwrap();
        let copy = list.clone();
        assert_eq!(copy, list);
        // A difference in the last node only, then one node more.
        let n = 1_000_000;
        let last_differs = chain((0..n - 1).chain([n]));
        assert_ne!(last_differs.as_deref(), Some(&*list));
        assert_ne!(chain(0..n + 1).as_deref(), Some(&*list));
        assert_ne!(Some(&*list), chain(0..n + 1).as_deref());
        // Decoding and encoding need no stack per node either.
        let bytes = copy.to_bytes().unwrap();
        assert_eq!(entry::from_bytes(&bytes).unwrap(), *list);
        let text = format!("{:?}", entries(10_000));
        assert!(text.starts_with(
            "Some([entry { fileid: 0, name: \"\" }, entry { fileid: 1, name: \"n\" }, "
        ));
        assert!(text.ends_with(", entry { fileid: 9999, name: \"nnn\" }])"));
        // drop(list), drop(copy), drop(other): a million nodes each.
    });
    assert_eq!(
        format!("{:#?}", entries(2).unwrap()),
        "[\n    entry {\n        fileid: 0,\n        name: \"\",\n    },\n    entry {\n        fileid: 1,\n        name: \"n\",\n    },\n]"
    );
}

fn check_entries(mut node: Option<&entry>, n: u32) {
    for i in 0..n {
        let e = node.unwrap_or_else(|| panic!("list ends at {i}"));
        assert_eq!((e.fileid, e.name.as_str()), (i, name(i).as_str()));
        node = e.next.as_deref();
    }
    assert!(node.is_none(), "list longer than {n}");
}

#[test]
fn ten_thousand_entries_round_trip_with_default_limits() {
    let list = entries(N).unwrap();
    let bytes = list.to_bytes().unwrap();
    let mut e = Encoder::new();
    entries_xdr(&mut e, N);
    assert_eq!(bytes, e.as_bytes());
    assert_eq!(
        bytes.len(),
        10_000 * 12 + 4 * (0..N).map(|i| (i % 7).div_ceil(4)).sum::<u32>() as usize
    );

    let back = entry::from_bytes(&bytes).unwrap();
    check_entries(Some(&back), N);

    // The same list inside a struct, with a field after it.
    let dir = dirlist {
        entries: entries(N),
        eof: true,
    };
    let bytes = dir.to_bytes().unwrap();
    let mut e = Encoder::new();
    e.put_optional(true);
    entries_xdr(&mut e, N);
    e.put_bool(true);
    assert_eq!(bytes, e.as_bytes());
    let back = dirlist::from_bytes(&bytes).unwrap();
    assert!(back.eof);
    check_entries(back.entries.as_deref(), N);
    assert_eq!(back, dir);
}

#[test]
fn portmap_and_rpcbind_lists_round_trip_with_default_limits() {
    let map = |i: u32| pmap {
        prog: 100_000 + i,
        vers: i % 4,
        prot: 6,
        port: i,
    };
    let mut head: Option<Box<pmaplist>> = None;
    for i in (0..N).rev() {
        head = Some(Box::new(pmaplist {
            map: map(i),
            next: head,
        }));
    }
    let list = head.unwrap();
    let bytes = list.to_bytes().unwrap();
    let mut e = Encoder::new();
    for i in 0..N {
        for v in [100_000 + i, i % 4, 6, i, (i + 1 < N) as u32] {
            e.put_uint(v);
        }
    }
    assert_eq!(bytes, e.as_bytes());
    assert_eq!(bytes.len(), 20 * N as usize);
    let back = pmaplist::from_bytes(&bytes).unwrap();
    let mut node = Some(&back);
    for i in 0..N {
        let p = node.unwrap();
        assert_eq!(p.map, map(i));
        node = p.next.as_deref();
    }
    assert!(node.is_none());
    assert_eq!(back, *list);

    // rpcbind: the link and the top-level value are `rpcblist_ptr`.
    let netid = |i: u32| if i % 2 == 0 { "tcp" } else { "udp6" };
    let mut head: rpcblist_ptr = None;
    for i in (0..N).rev() {
        head = Some(Box::new(rp__list {
            r_netid: netid(i).into(),
            r_prog: i,
            rpcb_next: head,
        }));
    }
    let mut e = Encoder::new();
    encode_rpcblist_ptr(&head, &mut e).unwrap();
    let mut want = Encoder::new();
    for i in 0..N {
        want.put_optional(true);
        want.put_string(netid(i)).unwrap();
        want.put_uint(i);
    }
    want.put_optional(false);
    assert_eq!(e.as_bytes(), want.as_bytes());
    let mut d = Decoder::new(e.as_bytes());
    let back = decode_rpcblist_ptr(&mut d).unwrap();
    d.finish().unwrap();
    let mut node = back.as_deref();
    for i in 0..N {
        let r = node.unwrap();
        assert_eq!((r.r_netid.as_str(), r.r_prog), (netid(i), i));
        node = r.rpcb_next.as_deref();
    }
    assert!(node.is_none());
    assert_eq!(back, head);
}

#[test]
fn a_cut_list_fails_with_the_offset_of_the_missing_bytes() {
    let mut e = Encoder::new();
    entries_xdr(&mut e, 100);
    let bytes = e.as_bytes();
    // Node 50 starts at `at`: cut inside its name's length.
    let at = entries_xdr_len(50);
    let err = entry::from_bytes(&bytes[..at + 6]).unwrap_err();
    assert!(
        matches!(&err, Error::Xdr { offset, .. } if *offset == at + 4),
        "{err}"
    );
    // Cut right after a presence flag saying more follows.
    let err = entry::from_bytes(&bytes[..at]).unwrap_err();
    assert!(
        matches!(&err, Error::Xdr { offset, .. } if *offset == at),
        "{err}"
    );
    // A presence flag of 2 is malformed, at its own offset.
    let mut bad = bytes.to_vec();
    bad[at - 1] = 2;
    let err = entry::from_bytes(&bad).unwrap_err();
    assert!(
        matches!(&err, Error::Xdr { offset, .. } if *offset == at - 4),
        "{err}"
    );
}

/// Bytes of entries 0..n followed by a `1` flag (the length of the prefix
/// of a longer list before node n).
fn entries_xdr_len(n: u32) -> usize {
    (0..n).map(|i| 12 + 4 * (i % 7).div_ceil(4) as usize).sum()
}

#[test]
fn a_list_larger_than_the_memory_budget_fails_with_the_limit_error() {
    // 200,000 nodes of 20 bytes each (4 MB of input), under a budget of
    // 1 MiB: the node that would cross it fails, at the byte after its flag.
    let n = 200_000u32;
    let mut e = Encoder::new();
    for i in 0..n {
        for v in [i, 1, 17, 111, (i + 1 < n) as u32] {
            e.put_uint(v);
        }
    }
    let limits = Limits {
        max_alloc: 1 << 20,
        ..Limits::default()
    };
    let node = std::mem::size_of::<pmaplist>();
    let fits = (1 << 20) / node; // boxes charged before the failing one
    let mut d = Decoder::with_limits(e.as_bytes(), limits);
    let err = pmaplist::decode(&mut d).unwrap_err();
    let at = 20 * (fits + 1);
    match &err {
        Error::Limit { offset, reason } => {
            assert_eq!(*offset, at, "{err}");
            assert_eq!(
                reason,
                &format!(
                    "decoding would allocate {} bytes, more than the limit of {}",
                    (fits + 1) * node,
                    1 << 20
                )
            );
        }
        other => panic!("{other}"),
    }
    // With the default limits the same 4 MB list decodes.
    let back = pmaplist::from_bytes(e.as_bytes()).unwrap();
    let mut count = 0;
    let mut node = Some(&back);
    while let Some(p) = node {
        assert_eq!(p.map.prog, count);
        count += 1;
        node = p.next.as_deref();
    }
    assert_eq!(count, n);
}

#[test]
fn a_list_counts_one_nesting_level() {
    let mut e = Encoder::new();
    entries_xdr(&mut e, 3);
    let depth = |max_depth| {
        let limits = Limits {
            max_depth,
            ..Limits::default()
        };
        let mut d = Decoder::with_limits(e.as_bytes(), limits);
        entry::decode(&mut d).map(|_| d.position())
    };
    assert_eq!(depth(1).unwrap(), e.as_bytes().len());
    // With no nesting allowed, the second node is refused after its flag.
    let err = depth(0).unwrap_err();
    assert!(
        matches!(&err, Error::Limit { offset: 12, reason } if reason == "nesting deeper than the limit of 0"),
        "{err}"
    );
    // A one-node list needs no nesting.
    let one = entry {
        fileid: 9,
        name: "x".into(),
        next: None,
    };
    let bytes = one.to_bytes().unwrap();
    let mut d = Decoder::with_limits(
        &bytes,
        Limits {
            max_depth: 0,
            ..Limits::default()
        },
    );
    assert_eq!(entry::decode(&mut d).unwrap(), one);
}

/// A tree leaning left, `depth` nodes deep.
fn tree_xdr(depth: usize) -> Vec<u8> {
    let mut e = Encoder::new();
    for i in 0..depth {
        e.put_int(i as i32);
        e.put_optional(i + 1 < depth); // left
    }
    for _ in 0..depth {
        e.put_optional(false); // right
    }
    e.into_bytes()
}

#[test]
fn a_tree_stays_under_the_depth_limit() {
    let ok = tree_xdr(65);
    let t = tree::from_bytes(&ok).unwrap();
    assert_eq!(t.to_bytes().unwrap(), ok);
    let mut depth = 0;
    let mut node = Some(&t);
    while let Some(n) = node {
        assert_eq!((n.value, n.right.is_none()), (depth, true));
        depth += 1;
        node = n.left.as_deref();
    }
    assert_eq!(depth, 65);
    // 66 levels need 65 nested links: past the default 64.
    let deep = tree_xdr(66);
    let err = tree::from_bytes(&deep).unwrap_err();
    assert!(
        matches!(&err, Error::Limit { offset, reason } if *offset == 65 * 8 && reason == "nesting deeper than the limit of 64"),
        "{err}"
    );
    let mut d = Decoder::with_limits(
        &deep,
        Limits {
            max_depth: 65,
            ..Limits::default()
        },
    );
    assert_eq!(tree::decode(&mut d).unwrap().to_bytes().unwrap(), deep);
}

fn tool(cmd: &str, what: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(found, "{cmd} not found: {what}");
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn lib_dir(root: &Path) -> PathBuf {
    let lib = std::env::var_os("XIPC_LIBRARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/libxipc.so"));
    assert!(
        lib.exists(),
        "{} is missing: run `make all` first",
        lib.display()
    );
    lib.canonicalize().unwrap().parent().unwrap().to_path_buf()
}

/// tests/gen/lists_main.c against the generated C, under valgrind (no
/// invalid access, no leak, also on the failing paths).
#[test]
fn generated_c_lists_round_trip_and_fail_cleanly() {
    tool("cc", "install gcc");
    tool("valgrind", "install valgrind (scripts/deps.sh)");
    let root = std::env::current_dir().unwrap();
    let libdir = lib_dir(&root);
    let tmp = std::env::temp_dir().join(format!("xipc-idl-lists-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    // The library's soname is libxipc.so.0; a build tree may only have .so.
    std::os::unix::fs::symlink(libdir.join("libxipc.so"), tmp.join("libxipc.so.0")).unwrap();
    let opts = Options {
        rpc: false,
        ..Options::default()
    };
    for f in generate(&Input::path("tests/gen/lists.x"), Lang::C, &opts).unwrap() {
        std::fs::write(tmp.join(&f.name), f.contents).unwrap();
    }
    let exe = tmp.join("lists");
    run(Command::new("cc")
        .current_dir(&tmp)
        .args([
            "-std=c11",
            "-D_GNU_SOURCE",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
            "-g",
            "-o",
        ])
        .arg(&exe)
        .arg(root.join("tests/gen/lists_main.c"))
        .arg("lists.c")
        .arg("-I.")
        .arg(format!("-I{}", root.join("include").display()))
        .arg(format!("-L{}", libdir.display()))
        .arg(format!("-Wl,-rpath,{}", tmp.display()))
        .arg("-lxipc"));
    let out = run(Command::new("valgrind")
        .args(["--quiet", "--error-exitcode=99", "--leak-check=full"])
        .args([
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite",
        ])
        .arg(&exe));
    // Node 50 of the cut list starts at byte 824; C reads its fileid and
    // name length in one 8-byte step. The budget fails at node 43,691 of
    // 24 bytes (after its flag, at 20 x 43,691), as in Rust.
    assert_eq!(
        out,
        "entries: ok\n\
         pmaplist: ok\n\
         rpcblist_ptr: ok\n\
         cut in a count: -9 at byte 824: fixed opaque needs 8 bytes but only 6 remain\n\
         cut after a flag: -9 at byte 824: fixed opaque needs 8 bytes but only 0 remain\n\
         flag 2: -9 at byte 820: bool must be 0 or 1, found 2\n\
         depth 0: -10 at byte 12: nesting deeper than the limit of 0\n\
         1 MiB budget: -10 at byte 873820: decoding would allocate 1048584 bytes, more than the limit of 1048576\n\
         tree of 66: -10 at byte 520: nesting deeper than the limit of 64\n"
    );
    assert_eq!(entries_xdr_len(50), 824);
    std::fs::remove_dir_all(&tmp).unwrap();
}
