//! The syntax tree of a `.x` file.

use super::Pos;

/// A whole specification: its definitions in source order.
///
/// ```
/// use xipc::idl::ast::{Def, Kind, Type};
/// use xipc::idl::{parse, Input, Options};
/// let x = "typedef opaque blob<64>;\n\
///          program STORE { version V1 { blob GET(int) = 1; } = 2; } = 0x20000001;\n";
/// let spec = parse(&Input::text("store.x", x), &Options::default(), &["RPC_XDR"])?;
/// let Def::Typedef(blob) = &spec.defs[0] else { panic!("a typedef") };
/// assert_eq!((blob.name.as_str(), &blob.ty), ("blob", &Type::Opaque));
/// assert!(matches!(&blob.kind, Kind::Var(Some(bound)) if bound.text == "64"));
/// let Def::Program(prog) = &spec.defs[1] else { panic!("a program") };
/// assert_eq!(prog.number.text, "0x20000001");
/// let get = &prog.versions[0].procs[0];
/// assert_eq!((get.name.as_str(), get.number.text.as_str()), ("GET", "1"));
/// assert_eq!(get.result.ty, Type::Named("blob".into()));
/// assert_eq!(get.args.len(), 1);
/// assert_eq!(get.args[0].ty, Type::Int);
/// # Ok::<(), xipc::idl::IdlError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// The definitions, in the order they appear in the file.
    pub defs: Vec<Def>,
}

/// One top-level definition.
#[derive(Clone, Debug)]
pub enum Def {
    /// `const NAME = value;`
    Const(ConstDef),
    /// `typedef declaration;`
    Typedef(Decl),
    /// `enum NAME { ... };`
    Enum(EnumDef),
    /// `struct NAME { ... };`
    Struct(StructDef),
    /// `union NAME switch (...) { ... };`
    Union(UnionDef),
    /// `program NAME { version ... } = number;`
    Program(ProgramDef),
    /// A `%` line, passed through to C output.
    Pass(String),
}

impl Def {
    /// The name the definition introduces (None for `%` lines).
    pub fn name(&self) -> Option<&str> {
        match self {
            Def::Const(c) => Some(&c.name),
            Def::Typedef(d) => Some(&d.name),
            Def::Enum(e) => Some(&e.name),
            Def::Struct(s) => Some(&s.name),
            Def::Union(u) => Some(&u.name),
            Def::Program(p) => Some(&p.name),
            Def::Pass(_) => None,
        }
    }
}

/// A number or the name of a constant, as written.
#[derive(Clone, Debug)]
pub struct Value {
    /// The source text: a decimal, octal (`0` prefix) or hexadecimal (`0x`)
    /// number, possibly negative; a constant or enum item name; or, for a
    /// `const` only, a string literal with its quotes.
    pub text: String,
    /// Where the value is written.
    pub pos: Pos,
}

impl Value {
    /// True for a string literal (only a `const` may have one).
    pub fn is_string(&self) -> bool {
        self.text.starts_with('"')
    }

    /// True when written as a number rather than a name.
    pub fn is_literal(&self) -> bool {
        self.text
            .starts_with(|c: char| c.is_ascii_digit() || c == '-')
    }
}

/// `const NAME = value;`: a named constant.
#[derive(Clone, Debug)]
pub struct ConstDef {
    /// The constant's name.
    pub name: String,
    /// Its value: a number, another constant's name or a string literal.
    pub value: Value,
    /// Where the definition starts (its `const` keyword).
    pub pos: Pos,
}

/// `enum NAME { ITEM = value, ... };`: an enumeration, 4 bytes on the wire.
#[derive(Clone, Debug)]
pub struct EnumDef {
    /// The enum's name.
    pub name: String,
    /// Items and their values as written (None: previous + 1, from 0).
    pub items: Vec<(String, Option<Value>, Pos)>,
    /// Where the definition starts (its `enum` keyword).
    pub pos: Pos,
}

/// `struct NAME { decl; ... };`: a structure, its fields encoded in order.
#[derive(Clone, Debug)]
pub struct StructDef {
    /// The struct's name.
    pub name: String,
    /// The fields, in declaration (and encoding) order.
    pub fields: Vec<Decl>,
    /// Where the definition starts (its `struct` keyword).
    pub pos: Pos,
}

/// `union NAME switch (discriminant) { case ...: arm; ... };`: a
/// discriminated union, encoded as the discriminant then the chosen arm.
#[derive(Clone, Debug)]
pub struct UnionDef {
    /// The union's name.
    pub name: String,
    /// The discriminant declaration (an `int`, `unsigned int`, `bool` or enum type).
    pub discr: Decl,
    /// The `case` arms, in source order.
    pub arms: Vec<Arm>,
    /// The `default:` arm (its declaration may be `void`).
    pub default: Option<Decl>,
    /// Where the definition starts (its `union` keyword).
    pub pos: Pos,
}

/// `case A: case B: decl;`
#[derive(Clone, Debug)]
pub struct Arm {
    /// The case values (numbers or constant/enum item names) that select this arm.
    pub cases: Vec<Value>,
    /// The arm's declaration (`void` for an arm that encodes nothing).
    pub decl: Decl,
}

/// `program NAME { version ... } = number;`: an ONC RPC program (RFC 5531 §12).
#[derive(Clone, Debug)]
pub struct ProgramDef {
    /// The program's name (a `#define` in rpcgen's C output).
    pub name: String,
    /// The program number.
    pub number: Value,
    /// Its versions, in source order.
    pub versions: Vec<VersionDef>,
    /// Where the definition starts (its `program` keyword).
    pub pos: Pos,
}

/// `version NAME { procedures } = number;` inside a program.
#[derive(Clone, Debug)]
pub struct VersionDef {
    /// The version's name.
    pub name: String,
    /// The version number.
    pub number: Value,
    /// Its procedures, in source order.
    pub procs: Vec<ProcDef>,
    /// Where the `version` keyword is.
    pub pos: Pos,
}

/// `result NAME(args) = number;`: one remote procedure.
#[derive(Clone, Debug)]
pub struct ProcDef {
    /// The procedure's name.
    pub name: String,
    /// The procedure number.
    pub number: Value,
    /// The result (a declaration without a name; `Type::Void` for none).
    pub result: Decl,
    /// The arguments (empty for `void`).
    pub args: Vec<Decl>,
    /// Where the procedure starts (its result type).
    pub pos: Pos,
}

/// The base type of a declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// `void`: nothing on the wire.
    Void,
    /// `int`: 32-bit signed integer.
    Int,
    /// `unsigned int` (or plain `unsigned`): 32-bit unsigned integer.
    UInt,
    /// `hyper`: 64-bit signed integer.
    Hyper,
    /// `unsigned hyper`: 64-bit unsigned integer.
    UHyper,
    /// `float`: IEEE single precision, 4 bytes.
    Float,
    /// `double`: IEEE double precision, 8 bytes.
    Double,
    /// `quadruple`: IEEE quadruple precision, 16 bytes.
    Quadruple,
    /// `bool`: 0 or 1, 4 bytes.
    Bool,
    /// rpcgen's C extras (`char`, `short`, `long`): a 4-byte int on the wire.
    Char,
    /// `unsigned char`: rpcgen's C extra, a 4-byte unsigned int on the wire.
    UChar,
    /// `short`: rpcgen's C extra, a 4-byte int on the wire.
    Short,
    /// `unsigned short`: rpcgen's C extra, a 4-byte unsigned int on the wire.
    UShort,
    /// `long`: rpcgen's C extra, a 4-byte int on the wire.
    Long,
    /// `unsigned long`: rpcgen's C extra, a 4-byte unsigned int on the wire.
    ULong,
    /// `opaque`: raw bytes, declared `opaque x[n]` or `opaque x<n>`.
    Opaque,
    /// `string`: ASCII text, declared `string x<n>` or `string x<>`.
    String,
    /// A defined type (`foo`, `struct foo`, `enum foo`, `union foo`).
    Named(String),
}

/// How the base type is declared.
#[derive(Clone, Debug)]
pub enum Kind {
    /// `T x`
    Plain,
    /// `T x[n]`
    Fixed(Value),
    /// `T x<n>` or `T x<>` (None)
    Var(Option<Value>),
    /// `T *x`
    Optional,
}

/// `type name`, with its array or optional form.
#[derive(Clone, Debug)]
pub struct Decl {
    /// Empty for `void` and for procedure arguments and results.
    pub name: String,
    /// The base type.
    pub ty: Type,
    /// Plain, fixed array, variable array or optional.
    pub kind: Kind,
    /// Where the declaration starts (its type specifier).
    pub pos: Pos,
}

impl Decl {
    /// True for a `void` declaration (an empty union arm or procedure result).
    pub fn is_void(&self) -> bool {
        self.ty == Type::Void
    }
}
