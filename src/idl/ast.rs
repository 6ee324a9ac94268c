//! The syntax tree of a `.x` file.

use super::Pos;

/// A whole specification: its definitions in source order.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    pub defs: Vec<Def>,
}

/// One top-level definition.
#[derive(Clone, Debug)]
pub enum Def {
    Const(ConstDef),
    Typedef(Decl),
    Enum(EnumDef),
    Struct(StructDef),
    Union(UnionDef),
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
    pub text: String,
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

#[derive(Clone, Debug)]
pub struct ConstDef {
    pub name: String,
    pub value: Value,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct EnumDef {
    pub name: String,
    /// Items and their values as written (None: previous + 1, from 0).
    pub items: Vec<(String, Option<Value>, Pos)>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct StructDef {
    pub name: String,
    pub fields: Vec<Decl>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct UnionDef {
    pub name: String,
    pub discr: Decl,
    pub arms: Vec<Arm>,
    /// The `default:` arm (its declaration may be `void`).
    pub default: Option<Decl>,
    pub pos: Pos,
}

/// `case A: case B: decl;`
#[derive(Clone, Debug)]
pub struct Arm {
    pub cases: Vec<Value>,
    pub decl: Decl,
}

#[derive(Clone, Debug)]
pub struct ProgramDef {
    pub name: String,
    pub number: Value,
    pub versions: Vec<VersionDef>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct VersionDef {
    pub name: String,
    pub number: Value,
    pub procs: Vec<ProcDef>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct ProcDef {
    pub name: String,
    pub number: Value,
    /// The result (a declaration without a name; `Type::Void` for none).
    pub result: Decl,
    /// The arguments (empty for `void`).
    pub args: Vec<Decl>,
    pub pos: Pos,
}

/// The base type of a declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    Void,
    Int,
    UInt,
    Hyper,
    UHyper,
    Float,
    Double,
    Quadruple,
    Bool,
    /// rpcgen's C extras (`char`, `short`, `long`): a 4-byte int on the wire.
    Char,
    UChar,
    Short,
    UShort,
    Long,
    ULong,
    Opaque,
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
    pub ty: Type,
    pub kind: Kind,
    pub pos: Pos,
}

impl Decl {
    pub fn is_void(&self) -> bool {
        self.ty == Type::Void
    }
}
