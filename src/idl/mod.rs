//! The `.x` interface compiler behind `xipc gen` (issue 5).
//!
//! A service is defined once in the RPC language of `.x` files (RFC 4506 §6,
//! RFC 5531 §12, as rpcgen accepts it) and its types, codecs and RPC stubs
//! are generated for C, Python and Rust, all wire-compatible with rpcgen.
//!
//! ```
//! use xipc::idl::{generate, Input, Lang, Options};
//! let x = "struct point { int x; int y; };\nprogram GEO { version V1 { point ORIGIN(void) = 1; } = 1; } = 0x20000001;\n";
//! let files = generate(&Input::text("geo.x", x), Lang::C, &Options::default())?;
//! let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
//! assert_eq!(names, ["geo.h", "geo.c", "geo_clnt.c", "geo_svc.c"]);
//! assert!(files[0].contents.contains("typedef struct point point;"));
//! // Written next to each other, they build with the xipc C library:
//! // for f in files { std::fs::write(&f.name, f.contents)?; }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Pipeline: [`lex`] (tokens, with the preprocessing rpcgen gets from cpp),
//! [`parse`](mod@parse) (syntax tree, [`ast`]), [`check`] (names, constants, types),
//! then one generator per language.

pub mod ast;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
mod code;
mod gen_c;
mod gen_python;
mod gen_rust;
pub mod lex;
pub mod parse;
pub mod runtime;

use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub use runtime::XdrType;

/// A position in a `.x` file: file name, line and column (both from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pos {
    /// The file name, as given to the compiler or named by `#include`.
    pub file: Rc<str>,
    /// The line, counting from 1.
    pub line: u32,
    /// The column, counting from 1.
    pub col: u32,
}

impl Pos {
    /// A position in `file` at `line` and `col`.
    pub fn new(file: Rc<str>, line: u32, col: u32) -> Pos {
        Pos { file, line, col }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// An error in a `.x` file, at a position: `file:line:column: message`.
///
/// ```
/// use xipc::idl::{check_file, Input, Options};
/// let err = check_file(&Input::text("bad.x", "struct s {\n  int a\n};\n"), &Options::default())
///     .unwrap_err();
/// assert_eq!((err.pos.line, err.pos.col), (3, 1));
/// assert!(err.to_string().starts_with("bad.x:3:1: error: expected"), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdlError {
    /// Where the error is.
    pub pos: Pos,
    /// What is wrong, without the position.
    pub message: String,
}

impl IdlError {
    /// An error at `pos` saying `message`.
    pub fn new(pos: Pos, message: impl Into<String>) -> IdlError {
        IdlError {
            pos,
            message: message.into(),
        }
    }
}

impl fmt::Display for IdlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.pos, self.message)
    }
}

impl std::error::Error for IdlError {}

impl From<IdlError> for crate::Error {
    fn from(e: IdlError) -> crate::Error {
        crate::Error::InvalidArgument(e.to_string())
    }
}

/// The target language of [`generate`]; parses from the names
/// `xipc gen --lang` takes.
///
/// ```
/// use xipc::idl::Lang;
/// assert_eq!("python".parse::<Lang>(), Ok(Lang::Python));
/// assert_eq!("rs".parse::<Lang>(), Ok(Lang::Rust));
/// assert!("go".parse::<Lang>().unwrap_err().contains("expected c, python or rust"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// C: a header and the XDR codecs, plus client stubs and a server
    /// skeleton when [`Options::rpc`] is set.
    C,
    /// Python: one `.py` module.
    Python,
    /// Rust: one `.rs` module.
    Rust,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s {
            "c" | "C" => Ok(Lang::C),
            "python" | "py" => Ok(Lang::Python),
            "rust" | "rs" => Ok(Lang::Rust),
            _ => Err(format!(
                "unknown language {s:?}: expected c, python or rust"
            )),
        }
    }
}

/// Where the `.x` text comes from.
#[derive(Clone, Debug)]
pub struct Input {
    /// Name used in messages and to derive output file names.
    pub name: String,
    /// The text; None = read `name` from the file system.
    pub text: Option<String>,
}

impl Input {
    /// A `.x` file on disk.
    pub fn path(path: impl AsRef<Path>) -> Input {
        Input {
            name: path.as_ref().display().to_string(),
            text: None,
        }
    }

    /// `.x` text held in memory, named `name` in messages.
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Input {
        Input {
            name: name.into(),
            text: Some(text.into()),
        }
    }
}

/// Generation options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Directories searched by `#include`.
    pub include_dirs: Vec<PathBuf>,
    /// Extra predefined macros (`-D NAME[=VALUE]`).
    pub defines: Vec<(String, String)>,
    /// Base name of the output files (default: the input's file stem).
    pub base: Option<String>,
    /// Generate the RPC client and server stubs (default true); false emits
    /// only types and codecs.
    pub rpc: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            include_dirs: Vec::new(),
            defines: Vec::new(),
            base: None,
            rpc: true,
        }
    }
}

/// One generated file: a name relative to the output directory, and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The file name, relative to the output directory.
    pub name: String,
    /// The file's full text.
    pub contents: String,
}

/// Parses `.x` text with the given extra macros, as rpcgen would after cpp.
///
/// ```
/// use xipc::idl::{ast::Def, parse, Input, Options};
/// let x = "#ifdef RPC_HDR\n%#include <time.h>\n#endif\nconst N = 4;\n";
/// let spec = parse(&Input::text("t.x", x), &Options::default(), &["RPC_HDR"])?;
/// assert!(matches!(&spec.defs[0], Def::Pass(t) if t == "#include <time.h>"));
/// assert_eq!(spec.defs[1].name(), Some("N"));
/// // Without RPC_HDR the `%` line is left out, as cpp would.
/// let spec = parse(&Input::text("t.x", x), &Options::default(), &[])?;
/// assert_eq!(spec.defs.len(), 1);
/// # Ok::<(), xipc::idl::IdlError>(())
/// ```
pub fn parse(input: &Input, options: &Options, defines: &[&str]) -> Result<ast::Spec, IdlError> {
    let text = match &input.text {
        Some(t) => t.clone(),
        None => std::fs::read_to_string(&input.name).map_err(|e| {
            IdlError::new(
                Pos::new(Rc::from(input.name.as_str()), 0, 0),
                format!("cannot read the file: {e}"),
            )
        })?,
    };
    let mut pre = lex::PreprocessOptions {
        include_dirs: options.include_dirs.clone(),
        defines: options.defines.clone(),
    };
    pre.defines
        .extend(defines.iter().map(|d| (d.to_string(), "1".to_string())));
    let dir = Path::new(&input.name).parent().map(Path::to_path_buf);
    let toks = lex::Lexer::new(&pre).run(&input.name, &text, dir.as_deref())?;
    parse::Parser::new(toks).spec()
}

/// Parses and checks a `.x` file, then generates the files for `lang`:
/// C: `BASE.h` and `BASE.c` (and `BASE_clnt.c`, `BASE_svc.c` for a
/// program, unless `options.rpc` is false); Python: `BASE.py`; Rust:
/// `BASE.rs`.
///
/// ```
/// use xipc::idl::{generate, Input, Lang, Options};
/// let x = "typedef int samples<8>;\n";
/// let opts = Options { base: Some("stats".into()), ..Options::default() };
/// let files = generate(&Input::text("s.x", x), Lang::Python, &opts)?;
/// assert_eq!(files.len(), 1);
/// assert_eq!(files[0].name, "stats.py");
/// assert!(files[0].contents.contains("class samples:"));
/// # Ok::<(), xipc::idl::IdlError>(())
/// ```
pub fn generate(
    input: &Input,
    lang: Lang,
    options: &Options,
) -> Result<Vec<GeneratedFile>, IdlError> {
    let base = options.base.clone().unwrap_or_else(|| {
        let stem = Path::new(&input.name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".to_string());
        stem.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_")
    });
    match lang {
        Lang::C => {
            // rpcgen runs cpp once per output with RPC_HDR or RPC_XDR defined;
            // `%` lines guarded by them go to the header or the source.
            // The stubs get theirs as rpcgen's _clnt.c and _svc.c do, under
            // RPC_CLNT and RPC_SVC.
            let hdr = parse(input, options, &["RPC_HDR"])?;
            let src = parse(input, options, &["RPC_XDR"])?;
            let model = check::Model::new(&src)?;
            let passes = |spec: ast::Spec| -> Vec<String> {
                spec.defs
                    .into_iter()
                    .filter_map(|d| match d {
                        ast::Def::Pass(t) => Some(t),
                        _ => None,
                    })
                    .collect()
            };
            let (clnt, svc) = if options.rpc {
                (
                    passes(parse(input, options, &["RPC_CLNT"])?),
                    passes(parse(input, options, &["RPC_SVC"])?),
                )
            } else {
                (Vec::new(), Vec::new())
            };
            gen_c::generate(&model, &hdr, &base, options, [&clnt, &svc])
        }
        Lang::Python => {
            let spec = parse(input, options, &["RPC_XDR"])?;
            let model = check::Model::new(&spec)?;
            gen_python::generate(&model, &base, options)
        }
        Lang::Rust => {
            let spec = parse(input, options, &["RPC_XDR"])?;
            let model = check::Model::new(&spec)?;
            gen_rust::generate(&model, &base, options)
        }
    }
}

/// Parses and checks a `.x` file without generating anything.
///
/// ```
/// use xipc::idl::{check_file, Input, Options};
/// let ok = check_file(&Input::text("a.x", "const MAX = 8;\ntypedef int v<MAX>;\n"), &Options::default());
/// assert!(ok.is_ok());
/// let err = check_file(&Input::text("b.x", "const A = 1;\nconst A = 2;\n"), &Options::default());
/// assert_eq!(err.unwrap_err().to_string(), "b.x:2:1: error: A is already defined (first at b.x:1:1)");
/// ```
pub fn check_file(input: &Input, options: &Options) -> Result<ast::Spec, IdlError> {
    let spec = parse(input, options, &["RPC_XDR"])?;
    check::Model::new(&spec)?;
    Ok(spec)
}
