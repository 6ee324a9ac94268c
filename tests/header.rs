//! The committed `include/xipc.h` must be what cbindgen generates now.

#[test]
fn committed_header_is_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/xipc.h"));
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/xipc.h"))
        .expect("include/xipc.h exists");
    assert!(
        generated == committed,
        "include/xipc.h is stale: run `make header` and commit it"
    );
}

/// Every name the header defines is xipc's: functions, types and macros
/// start with `xipc_` or `XIPC_` (no `NAME_MAX` to collide with
/// `<limits.h>`, no Rust type names).
#[test]
fn every_name_in_the_header_is_prefixed() {
    let header = include_str!("../include/xipc.h");
    let mut names = Vec::new();
    let ident = |s: &str| -> String {
        s.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .to_string()
    };
    for line in header.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["#define", name, ..] = words.as_slice() {
            if *name != "XIPC_H" || line.contains("XIPC_H") {
                names.push(ident(name));
            }
        } else if let (true, Some(start)) = (line.starts_with("typedef"), line.find("(*")) {
            // A function-pointer typedef: `typedef int (*name)(...`.
            let rest = &line[start + 2..];
            names.push(ident(&rest[..rest.find(')').unwrap_or(rest.len())]));
        } else if line.starts_with("typedef") && line.ends_with(';') {
            names.push(ident(words[words.len() - 1]));
        } else if line.starts_with('}') && line.ends_with(';') && line.len() > 2 {
            names.push(ident(&line[1..])); // `} name;` ends a typedef struct
        } else if !line.starts_with([' ', '#', '/', '*', '}', '{', '\t'])
            && !line.starts_with("typedef")
            && !line.starts_with("extern")
        {
            if let Some(open) = line.find('(') {
                // A function: `type *name(args`.
                let head = &line[..open];
                names.push(ident(head.rsplit([' ', '*']).next().unwrap_or(head)));
            }
        }
    }
    assert!(names.len() > 200, "found only {} names", names.len());
    let foreign: Vec<&String> = names
        .iter()
        .filter(|n| !(n.starts_with("xipc_") || n.starts_with("XIPC_")))
        .collect();
    assert!(foreign.is_empty(), "names without the prefix: {foreign:?}");
}

/// The comments speak C: no Rust `# Safety` sections, no Rust doc links.
#[test]
fn the_header_comments_speak_c() {
    let header = include_str!("../include/xipc.h");
    for (i, line) in header.lines().enumerate() {
        for rust in [
            "# Safety", "](", "[`", "Option<", "&mut ", "Vec<", "Self", "crate",
        ] {
            assert!(
                !line.contains(rust),
                "xipc.h line {}: {rust:?} is Rust, not C: {line}",
                i + 1
            );
        }
        // A Rust path (`mq::open`), not an IPv6 address ("::1").
        let path = line.match_indices("::").any(|(at, _)| {
            let before = line[..at].chars().next_back();
            let after = line[at + 2..].chars().next();
            before.is_some_and(|c| c.is_ascii_alphanumeric())
                && after.is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        });
        assert!(!path, "xipc.h line {}: a Rust path: {line}", i + 1);
    }
}
