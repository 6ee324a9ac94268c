//! The `.x` parser: it accepts every `.x` file rpcgen ships (rpcsvc-proto's
//! /usr/include/rpcsvc), rejects what rpcgen rejects with file:line:column
//! and what was expected, and handles the preprocessing rpcgen gets from cpp.

use std::path::Path;
use xipc::idl::ast::{Def, Kind, Type};
use xipc::idl::{check_file, generate, Input, Lang, Options};

const RPCSVC: &str = "/usr/include/rpcsvc";
const SYSTEM_FILES: &[&str] = &[
    "bootparam_prot.x",
    "key_prot.x",
    "klm_prot.x",
    "mount.x",
    "nfs_prot.x",
    "nis.x",
    "nis_callback.x",
    "nis_object.x",
    "nlm_prot.x",
    "rex.x",
    "rquota.x",
    "rstat.x",
    "rusers.x",
    "sm_inter.x",
    "spray.x",
    "yp.x",
    "yppasswd.x",
];

fn system_file(name: &str) -> String {
    let path = format!("{RPCSVC}/{name}");
    assert!(
        Path::new(&path).is_file(),
        "{path} is missing: install the rpcsvc-proto package (scripts/deps.sh)"
    );
    path
}

fn check(text: &str) -> Result<xipc::idl::ast::Spec, String> {
    check_file(&Input::text("t.x", text), &Options::default()).map_err(|e| e.to_string())
}

fn err(text: &str) -> String {
    match check(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e,
    }
}

#[test]
fn accepts_every_rpcsvc_file_and_generates_c_for_it() {
    let opts = Options {
        include_dirs: vec![
            RPCSVC.into(),
            Path::new(RPCSVC).parent().unwrap().to_path_buf(),
        ],
        ..Options::default()
    };
    for name in SYSTEM_FILES {
        let path = system_file(name);
        let spec = check_file(&Input::path(&path), &opts).unwrap_or_else(|e| panic!("{e}"));
        assert!(!spec.defs.is_empty(), "{name}");
        let files = generate(&Input::path(&path), Lang::C, &opts).unwrap_or_else(|e| panic!("{e}"));
        // BASE.h and BASE.c, plus BASE_clnt.c and BASE_svc.c for programs.
        let has_program = spec.defs.iter().any(|d| matches!(d, Def::Program(_)));
        assert_eq!(files.len(), if has_program { 4 } else { 2 }, "{name}");
    }
}

#[test]
fn generates_python_and_rust_for_every_rpcsvc_file() {
    // Well-known types (netobj, des_block) come from the runtimes; the
    // types of nis.x reach nis_callback.x through its `%#include`.
    let opts = Options {
        include_dirs: vec![Path::new(RPCSVC).parent().unwrap().to_path_buf()],
        ..Options::default()
    };
    for name in SYSTEM_FILES {
        let path = system_file(name);
        for lang in [Lang::Python, Lang::Rust] {
            generate(&Input::path(&path), lang, &opts)
                .unwrap_or_else(|e| panic!("{name} {lang:?}: {e}"));
        }
    }
    // Without the include path, nis.x is not found: nis_object is unknown.
    let e = generate(
        &Input::path(system_file("nis_callback.x")),
        Lang::Python,
        &Options::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown type nis_object"), "{e}");
}

#[test]
fn parses_the_whole_language() {
    let spec = check(
        "const A = 0x10; const B = 010; const C = -5; const D = A;\n\
         enum e { X, Y = 3, Z };\n\
         typedef unsigned hyper big<D>;\n\
         struct s { int a[B]; opaque o<>; string t<>; s *next; struct s *again; unsigned u; };\n\
         union u switch (e d) { case X: case Y: int i; case Z: void; default: float f; };\n\
         program P { version V { void N(void) = 0; s GET(int, string, u *) = 1; } = 1; } = 0x20000001;",
    )
    .unwrap();
    let names: Vec<_> = spec.defs.iter().filter_map(Def::name).collect();
    assert_eq!(names, ["A", "B", "C", "D", "e", "big", "s", "u", "P"]);
    let Def::Struct(s) = &spec.defs[6] else {
        panic!()
    };
    assert!(matches!(&s.fields[0].kind, Kind::Fixed(v) if v.text == "B"));
    assert!(matches!(s.fields[1].kind, Kind::Var(None)));
    assert_eq!(s.fields[1].ty, Type::Opaque);
    assert!(matches!(s.fields[3].kind, Kind::Optional));
    assert_eq!(s.fields[5].ty, Type::UInt);
    let Def::Program(p) = &spec.defs[8] else {
        panic!()
    };
    assert_eq!(p.versions[0].procs[1].args.len(), 3);
    assert!(p.versions[0].procs[0].args.is_empty());
}

#[test]
fn rejects_what_rpcgen_rejects_with_positions() {
    let cases: &[(&str, &str)] = &[
        (
            "struct s { void; };",
            "t.x:1:12: error: void is allowed only",
        ),
        (
            "struct s { opaque o; };",
            "t.x:1:12: error: opaque must be declared as an array",
        ),
        (
            "struct s { string s; };",
            "t.x:1:12: error: string must be declared variable-length",
        ),
        (
            "struct s { string s[4]; };",
            "string must be declared variable-length",
        ),
        (
            "struct s { int *b<>; };",
            "t.x:1:12: error: no arrays of pointers",
        ),
        (
            "struct s { };",
            "t.x:1:12: error: expected a type specifier, found `}`",
        ),
        (
            "struct s { int a; }",
            "t.x:1:20: error: expected `;`, found end of input",
        ),
        (
            "typedef int;",
            "t.x:1:12: error: expected `*` or a name, found `;`",
        ),
        ("typedef void v;", "void is allowed only"),
        ("const A = 5", "expected `;`"),
        (
            "const A = -0x10;",
            "t.x:1:11: error: negative hexadecimal constant -0x10",
        ),
        ("const A = 1.5;", "t.x:1:12: error: illegal character '.'"),
        (
            "enum e { };",
            "t.x:1:10: error: expected an enum item name, found `}`",
        ),
        (
            "enum e { A = 1, };",
            "expected an enum item name, found `}`",
        ),
        (
            "union u switch (int d) { default: void; };",
            "t.x:1:26: error: expected `case`, found `default`",
        ),
        (
            "union u switch (d) { case 1: int a; };",
            "expected `*` or a name, found `)`",
        ),
        (
            "union u switch (int d) { case 1: int a; default: void; case 2: int b; };",
            "expected `}`, found `case`",
        ),
        ("union u switch (int d) { };", "expected `case`"),
        (
            "struct s { struct { int a; } x; };",
            "t.x:1:19: error: anonymous struct types are not allowed",
        ),
        (
            "program P { version V { opaque F(void) = 0; } = 1; } = 1;",
            "illegal result type opaque",
        ),
        (
            "program P { version V { void F(void, void) = 0; } = 1; } = 1;",
            "void is allowed only as the sole argument",
        ),
        (
            "program P { version V { void F(int, void) = 0; } = 1; } = 1;",
            "void is allowed only as the sole argument",
        ),
        (
            "program P { version V { } = 1; } = 1;",
            "expected a type specifier, found `}`",
        ),
        ("program P { } = 1;", "expected `version`, found `}`"),
        (
            "struct s { int x[]; };",
            "expected a constant or constant name, found `]`",
        ),
        ("struct s { int x<5; };", "expected `>`, found `;`"),
        ("int x;", "t.x:1:1: error: expected a definition"),
        ("  %indented", "t.x:1:3: error: illegal character '%'"),
        (
            "struct program { int a; };",
            "expected a struct name, found `program`",
        ),
        ("struct s { int struct; };", "expected `*` or a name"),
        ("/* unterminated", "t.x:1:1: error: unterminated comment"),
    ];
    for (text, want) in cases {
        let got = err(text);
        assert!(got.contains(want), "{text}\n  got:  {got}\n  want: {want}");
    }
}

#[test]
fn semantic_errors_name_both_places() {
    assert_eq!(
        err("struct s { int a; };\nstruct s { int b; };"),
        "t.x:2:1: error: s is already defined (first at t.x:1:1)"
    );
    assert!(err("struct s { int a; int a; };").contains("field a appears twice"));
    assert!(
        err("struct s { int a[N]; }; const N = -1;").contains("is not between 0 and 4294967295")
    );
    assert!(err("struct s { s inner; };").contains("type s contains itself"));
    assert!(err("union u switch (hyper d) { case 1: int a; };")
        .contains("discriminant of union u must be"));
    assert!(
        err("union u switch (int d) { case 1: int a; case 1: int b; };")
            .contains("case value 1 (1) appears twice")
    );
    assert!(
        err("enum e { A }; union u switch (e d) { case 5: int a; };")
            .contains("case 5 is not a value of enum e")
    );
    assert!(
        err("program P { version V { int F(void) = 1; int G(void) = 1; } = 1; } = 1;")
            .contains("procedure number 1 is used twice")
    );
    assert!(err("const A = B; const B = A;").contains("defined in terms of itself"));
    // An unknown type, at its position, whatever the language.
    assert_eq!(
        err("struct p {\n  int x;\n  itn y;\n};"),
        "t.x:3:3: error: unknown type itn: it is not defined in the .x file, in a file it imports or among the well-known ONC RPC types"
    );
    for lang in [Lang::Python, Lang::Rust] {
        let e = generate(
            &Input::text("t.x", "typedef itn v<2>;"),
            lang,
            &Options::default(),
        )
        .unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (1, 9), "{lang:?}");
    }
    assert!(err("const A = 0x10000000000000000;").contains("invalid number"));
    assert!(err("enum e { A = 0x80000000 };").contains("does not fit in a 32-bit int"));
    assert!(err("union u switch (int d) { case 0x80000000: int a; };")
        .contains("out of the range of the discriminant of union u"));
    assert!(err("union u switch (unsigned d) { case -1: int a; };")
        .contains("out of the range of the discriminant"));
    assert!(err(
        "program P { version A { int F(void) = 1; } = 1; version B { int F(void) = 2; } = 2; } = 9;"
    )
    .contains("procedure F is number 1 at t.x:1:39 and 2 here"));
}

/// 64-bit constants, and numbers written as the names of constants,
/// programs, versions and procedures (as libtirpc's rpcb_prot.x does), in
/// every language.
#[test]
fn wide_constants_and_names_as_numbers() {
    let x = "const U64 = 0xffffffffffffffff;\nconst I64 = -9223372036854775808;\n\
             const OCT = 01777777777777777777777;\n\
             program P { version V1 { int F(void) = 5; } = 1;\n\
             version V2 { int G(void) = F; int H(void) = V2; } = 2; } = 0x20000001;\n";
    let files = generate(&Input::text("w.x", x), Lang::Rust, &Options::default()).unwrap();
    let rs = &files[0].contents;
    assert!(
        rs.contains("pub const U64: u64 = 18446744073709551615;"),
        "{rs}"
    );
    assert!(rs.contains("pub const I64: i64 = -9223372036854775808;"));
    assert!(rs.contains("pub const OCT: u64 = 18446744073709551615;"));
    assert!(rs.contains("pub const G: u32 = 5;") && rs.contains("pub const H: u32 = 2;"));
    let py =
        &generate(&Input::text("w.x", x), Lang::Python, &Options::default()).unwrap()[0].contents;
    assert!(py.contains("U64 = 18446744073709551615\nI64 = -9223372036854775808\n"));
    let h = &generate(&Input::text("w.x", x), Lang::C, &Options::default()).unwrap()[0].contents;
    assert!(h.contains("#define U64 0xffffffffffffffff\n"));
    assert!(h.contains("#define I64 (-9223372036854775807LL - 1)\n"));
    assert!(h.contains("#define G F\n"));
    // libtirpc's rpcb_prot.x: RPCBPROC_BCAST = RPCBPROC_CALLIT (of version 3).
    let rpcb = system_tirpc_file("rpcb_prot.x");
    for lang in [Lang::C, Lang::Python, Lang::Rust] {
        generate(&Input::path(&rpcb), lang, &Options::default())
            .unwrap_or_else(|e| panic!("rpcb_prot.x {lang:?}: {e}"));
    }
}

/// libtirpc's rpcb_prot.x, where pkg-config says libtirpc's headers are.
fn system_tirpc_file(name: &str) -> String {
    let out = std::process::Command::new("pkg-config")
        .args(["--variable=includedir", "libtirpc"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .expect("libtirpc not found by pkg-config: install libtirpc-dev (make deps)");
    let dir = String::from_utf8(out.stdout).unwrap();
    let path = format!("{}/tirpc/rpc/{name}", dir.trim());
    assert!(
        Path::new(&path).is_file(),
        "{path} is missing: install libtirpc-dev (make deps)"
    );
    path
}

#[test]
fn accepts_what_rpcgen_accepts() {
    for text in [
        "const A = B;",
        "enum e { A, B };",
        "enum e { A = 1 } ;",
        "struct s { int if; };",
        "%hello",
        "union u switch (int d) { case -1: int a; case X: void; }; const X = 2;",
        "struct s { unsigned char c; short s; long l; unsigned long ul; char c2; };",
        "program P { version V { void F() = 0; void G(int a) = 1; void H(int *) = 2; void I(string) = 3; string J(string<>) = 4; } = 1; } = 1;",
        "program P { version V { void F(void) = X; } = VX; } = PX; const X = 1; const VX = 2; const PX = 3;",
        "struct s { int a; }; typedef struct s s;",
        "program P { version A { int F(void) = 1; } = 1; version B { int F(void) = 1; } = 2; } = 9;",
        "union u switch (bool b) { case TRUE: int a; case FALSE: void; };",
        "const K = \"a string\";",
    ] {
        check(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn preprocessor_directives() {
    let text = "#define N 4\n#define M N\n#ifdef N\nconst A = M;\n#else\nconst A = 9;\n#endif\n\
                #if defined(N) && N > 3\nconst B = 1;\n#elif 1\nconst B = 2;\n#endif\n\
                #ifndef RPC_HDR\nconst C = 3;\n#endif\n#undef N\n#ifdef N\nconst D = 1;\n#endif\n\
                #pragma ident \"x\"\nstruct s { int a[M]; };";
    let spec = check(text).unwrap();
    let names: Vec<_> = spec.defs.iter().filter_map(Def::name).collect();
    assert_eq!(names, ["A", "B", "C", "s"]);
    let Def::Const(a) = &spec.defs[0] else {
        panic!()
    };
    assert_eq!(a.value.text, "4");
    assert_eq!(
        err("#ifdef X\nconst A = 1;"),
        "t.x:1:1: error: unterminated conditional: expected #endif before the end of the file"
    );
    assert!(err("#endif").contains("#endif without #if"));
    assert!(err("#error stop here").contains("t.x:1:1: error: #error stop here"));
    assert!(err("#define F(x) x\nconst A = F;").contains("function-like macro F"));
    assert!(err("#include \"missing.x\"").contains("cannot find included file missing.x"));
}

#[test]
fn includes_resolve_relative_to_the_including_file() {
    let dir = std::env::temp_dir().join(format!("xipc-idl-inc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("inner.x"),
        "const INNER = 5;\nstruct bad { int };\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("outer.x"),
        "#include \"inner.x\"\nconst OUTER = INNER;\n",
    )
    .unwrap();
    let e = check_file(&Input::path(dir.join("outer.x")), &Options::default()).unwrap_err();
    // The error is reported in the included file, at its own line.
    assert!(
        e.to_string()
            .ends_with("inner.x:2:18: error: expected `*` or a name, found `}`"),
        "{e}"
    );
    std::fs::write(dir.join("inner.x"), "const INNER = 5;\n").unwrap();
    let spec = check_file(&Input::path(dir.join("outer.x")), &Options::default()).unwrap();
    assert_eq!(spec.defs.len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
