//! `xipc xdr decode|encode`: XDR bytes of a type from a `.x` file as JSON,
//! and back (see [`crate::json`] for the mapping).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use xipc::idl::ast::Spec;
use xipc::idl::check::Model;
use xipc::idl::{Input, Options};
use xipc::xdr::Limits;

use crate::fail::{Failure, Outcome};
use crate::{io, json};

#[derive(Subcommand)]
pub enum XdrCommand {
    /// Decode XDR bytes of a type and print them as JSON.
    ///
    /// Enums print as their item names, unions as {"discriminant", "arm"},
    /// opaque data and quadruples as hex, strings that are not UTF-8 as
    /// {"hex": ...}, optional data as null or the value. Every bound of the
    /// .x file is enforced; an error names the item's path and byte offset.
    Decode(DecodeArgs),
    /// Encode JSON (as `xipc xdr decode` prints it) into XDR bytes.
    Encode(EncodeArgs),
}

#[derive(Args)]
pub struct TypeArgs {
    /// The .x file that defines the type (without it, only base types:
    /// int, unsigned, hyper, unsigned hyper, float, double, quadruple, bool,
    /// string, opaque).
    #[arg(long, short = 's', value_name = "FILE.x")]
    spec: Option<PathBuf>,
    /// The type: a typedef, enum, struct or union of the .x file, or a base type.
    #[arg(long = "type", short = 'T', value_name = "NAME")]
    type_name: String,
    /// Directory searched by #include in the .x file (repeatable).
    #[arg(short = 'I', value_name = "DIR")]
    include: Vec<PathBuf>,
    /// Predefine a macro for the .x file, NAME or NAME=VALUE (repeatable).
    #[arg(short = 'D', value_name = "NAME[=VALUE]")]
    define: Vec<String>,
}

#[derive(Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    ty: TypeArgs,
    /// The XDR bytes (default: stdin).
    file: Option<PathBuf>,
    /// The input is hex text (white space ignored) instead of raw bytes.
    #[arg(long)]
    hex: bool,
    /// Print the JSON on one line.
    #[arg(long)]
    compact: bool,
    /// Deepest nesting of structs, unions, arrays and optional data accepted.
    #[arg(long, value_name = "N", default_value_t = 128)]
    max_depth: usize,
}

#[derive(Args)]
pub struct EncodeArgs {
    #[command(flatten)]
    ty: TypeArgs,
    /// The JSON value (default: stdin).
    file: Option<PathBuf>,
    /// Write the bytes here (default: stdout; hex when stdout is a terminal).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write hex text and a newline instead of raw bytes.
    #[arg(long)]
    hex: bool,
}

pub fn run(cmd: XdrCommand) -> Outcome {
    match cmd {
        XdrCommand::Decode(a) => decode(a),
        XdrCommand::Encode(a) => encode(a),
    }
}

/// Parses and checks the `.x` file (an empty specification without one).
fn load_spec(args: &TypeArgs) -> Outcome<Spec> {
    let Some(path) = &args.spec else {
        return Ok(Spec::default());
    };
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
        ..Options::default()
    };
    xipc::idl::check_file(&Input::path(path), &options).map_err(|e| {
        if !path.exists() {
            Failure::not_found(format!("{}: no such file", path.display()))
        } else {
            Failure::failed(e.to_string())
        }
    })
}

fn model(spec: &Spec) -> Outcome<Model<'_>> {
    Model::new(spec).map_err(|e| Failure::failed(e.to_string()))
}

/// The declaration of the requested type, or a usage error listing the types.
fn root(model: &Model<'_>, args: &TypeArgs) -> Outcome<xipc::idl::ast::Decl> {
    json::root_decl(model, &args.type_name).ok_or_else(|| {
        // The file's own types (the well-known ones work too, unlisted).
        let mut names: Vec<&str> = model
            .types
            .keys()
            .copied()
            .filter(|n| model.origin(n).is_none())
            .collect();
        names.sort_unstable();
        let known = if names.is_empty() {
            "no types are defined (give the .x file with --spec)".to_string()
        } else {
            format!("its types are: {}", names.join(", "))
        };
        Failure::usage(format!(
            "type {:?} is not defined in {}; {known}",
            args.type_name,
            args.ty_source()
        ))
    })
}

impl TypeArgs {
    fn ty_source(&self) -> String {
        self.spec
            .as_ref()
            .map_or_else(|| "the base types".to_string(), |p| p.display().to_string())
    }
}

fn decode(args: DecodeArgs) -> Outcome {
    let spec = load_spec(&args.ty)?;
    let model = model(&spec)?;
    let decl = root(&model, &args.ty)?;
    let input = io::read_input(args.file.as_deref())?;
    let bytes = if args.hex {
        io::from_hex(&String::from_utf8_lossy(&input))
            .map_err(|why| io::bad_hex("the input", why))?
    } else {
        input
    };
    let limits = Limits {
        max_depth: args.max_depth,
        ..Limits::default()
    };
    let value = json::decode(&model, &decl, &bytes, limits).map_err(|e| {
        Failure::failed(format!(
            "cannot decode {} bytes as {}: {e}",
            bytes.len(),
            args.ty.type_name
        ))
    })?;
    let mut text = if args.compact {
        serde_json::to_string(&value)
    } else {
        serde_json::to_string_pretty(&value)
    }
    .expect("a JSON value serializes");
    text.push('\n');
    io::write_output(None, text.as_bytes())
}

fn encode(args: EncodeArgs) -> Outcome {
    let spec = load_spec(&args.ty)?;
    let model = model(&spec)?;
    let decl = root(&model, &args.ty)?;
    let input = io::read_input(args.file.as_deref())?;
    let value: serde_json::Value = serde_json::from_slice(&input)
        .map_err(|e| Failure::failed(format!("the input is not JSON: {e}")))?;
    let bytes = json::encode(&model, &decl, &value)
        .map_err(|e| Failure::failed(format!("cannot encode as {}: {e}", args.ty.type_name)))?;
    let to_stdout = args
        .output
        .as_deref()
        .map_or(true, |p| p.as_os_str() == "-");
    if args.hex || (to_stdout && io::stdout_is_terminal()) {
        let mut text = io::to_hex(&bytes);
        text.push('\n');
        return io::write_output(args.output.as_deref(), text.as_bytes());
    }
    io::write_output(args.output.as_deref(), &bytes)
}
