//! `xipc gen`: the command-line front of [`generate`].

use super::{generate, Input, Lang, Options};
use std::path::PathBuf;

/// The exit statuses of `xipc gen`, as `xipc gen --help` lists them.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success (the files written are listed on stdout unless -q)
  1  the .x file has an error (file:line:column: error: ... on stderr),
     or an output file cannot be written
  2  usage error: bad option or value
  4  not found: the .x file (or one it imports) does not exist";

/// Arguments of `xipc gen`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_STATUS_HELP)]
pub struct GenArgs {
    /// Target language: c, python or rust.
    #[arg(long, short = 'l')]
    pub lang: Lang,
    /// Output directory (created if missing; default: the current directory).
    #[arg(long, short = 'o', default_value = ".")]
    pub out_dir: PathBuf,
    /// Base name of the generated files (default: the .x file's stem).
    #[arg(long)]
    pub base: Option<String>,
    /// Directory searched by #include, and for the .x file behind a
    /// `%#include <dir/name.h>` line (repeatable).
    #[arg(short = 'I', value_name = "DIR")]
    pub include: Vec<PathBuf>,
    /// Predefine a macro, NAME or NAME=VALUE (repeatable).
    #[arg(short = 'D', value_name = "NAME[=VALUE]")]
    pub define: Vec<String>,
    /// Use the types of another .x file, whose code is generated apart
    /// (repeatable).
    #[arg(long, value_name = "FILE.x")]
    pub import: Vec<PathBuf>,
    /// Generate only types and codecs, no RPC client or server stubs.
    #[arg(long)]
    pub no_rpc: bool,
    /// Run every check of generating for the language; write nothing.
    #[arg(long)]
    pub check: bool,
    /// Do not list the files written.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// The .x file.
    pub file: PathBuf,
}

/// The exit status for "not found" (the xipc command's table).
const NOT_FOUND: i32 = 4;

/// Runs `xipc gen` and returns the exit status (see [`EXIT_STATUS_HELP`]);
/// errors go to stderr as `file:line:col: error: ...`, or `xipc gen: ...`
/// without a position.
pub fn run(args: GenArgs) -> i32 {
    let options = Options {
        include_dirs: args.include.clone(),
        defines: args
            .define
            .iter()
            .map(|d| match d.split_once('=') {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None => (d.clone(), "1".to_string()),
            })
            .collect(),
        base: args.base.clone(),
        rpc: !args.no_rpc,
        imports: args.import.clone(),
    };
    let input = Input::path(&args.file);
    let files = match generate(&input, args.lang, &options) {
        Ok(f) => f,
        Err(e) if e.pos.line == 0 => {
            // No position: the file itself could not be read.
            eprintln!("xipc gen: {}", e.message);
            return if e.message.ends_with("no such file") {
                NOT_FOUND
            } else {
                1
            };
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if args.check {
        return 0;
    }
    if let Err(e) = std::fs::create_dir_all(&args.out_dir) {
        eprintln!("xipc gen: cannot create {}: {e}", args.out_dir.display());
        return 1;
    }
    for f in files {
        let path = args.out_dir.join(&f.name);
        if let Err(e) = std::fs::write(&path, f.contents) {
            eprintln!("xipc gen: cannot write {}: {e}", path.display());
            return 1;
        }
        if !args.quiet {
            println!("{}", path.display());
        }
    }
    0
}
