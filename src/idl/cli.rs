//! `xipc gen`: the command-line front of [`generate`].

use super::{generate, Input, Lang, Options};
use std::path::PathBuf;

/// Arguments of `xipc gen`.
#[derive(clap::Args, Debug)]
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
    /// Directory searched by #include (repeatable).
    #[arg(short = 'I', value_name = "DIR")]
    pub include: Vec<PathBuf>,
    /// Predefine a macro, NAME or NAME=VALUE (repeatable).
    #[arg(short = 'D', value_name = "NAME[=VALUE]")]
    pub define: Vec<String>,
    /// Generate only types and codecs, no RPC client or server stubs.
    #[arg(long)]
    pub no_rpc: bool,
    /// Only parse and check the file; write nothing.
    #[arg(long)]
    pub check: bool,
    /// The .x file.
    pub file: PathBuf,
}

/// Runs `xipc gen` and returns the exit status (0 or 1); errors go to
/// stderr as `file:line:col: error: ...`.
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
    };
    let input = Input::path(&args.file);
    if args.check {
        return match super::check_file(&input, &options) {
            Ok(_) => 0,
            Err(e) => {
                eprintln!("{e}");
                1
            }
        };
    }
    let files = match generate(&input, args.lang, &options) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
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
    }
    0
}
