//! Recursive-descent parser for the RPC language (RFC 4506 §6, RFC 5531 §12)
//! as rpcgen accepts it: its C extras (`char`, `short`, `long`, `struct T`
//! as a type), procedure argument lists of several types (rpcgen `-N`), and
//! its restrictions (no anonymous nested types, `default` last, no trailing
//! comma in enums, `opaque` and `string` only as arrays).

use super::ast::*;
use super::lex::{TokKind, Token};
use super::{IdlError, Pos};

const KEYWORDS: &[&str] = &[
    "bool", "case", "char", "const", "default", "double", "enum", "float", "hyper", "int", "long",
    "opaque", "program", "short", "string", "struct", "switch", "typedef", "union", "unsigned",
    "version", "void",
];

/// Builds the syntax tree from the lexer's tokens.
///
/// ```
/// use xipc::idl::ast::{Def, Kind};
/// use xipc::idl::lex::{Lexer, PreprocessOptions};
/// use xipc::idl::parse::Parser;
/// let toks = Lexer::new(&PreprocessOptions::default()).run("t.x", "typedef string name<255>;", None)?;
/// let spec = Parser::new(toks).spec()?;
/// let Def::Typedef(d) = &spec.defs[0] else { panic!("a typedef") };
/// assert_eq!(d.name, "name");
/// assert!(matches!(&d.kind, Kind::Var(Some(b)) if b.text == "255"));
/// # Ok::<(), xipc::idl::IdlError>(())
/// ```
pub struct Parser {
    toks: Vec<Token>,
    i: usize,
}

impl Parser {
    /// A parser over tokens from [`Lexer::run`](super::lex::Lexer::run).
    pub fn new(toks: Vec<Token>) -> Parser {
        Parser { toks, i: 0 }
    }

    /// The whole specification, or the first error with its position.
    pub fn spec(mut self) -> Result<Spec, IdlError> {
        let mut spec = Spec::default();
        loop {
            self.passthrough(&mut spec.defs);
            if self.peek() == &TokKind::Eof {
                return Ok(spec);
            }
            let def = self.definition(&mut spec.defs)?;
            spec.defs.push(def);
        }
    }

    fn peek(&self) -> &TokKind {
        &self.toks[self.i].kind
    }

    fn pos(&self) -> Pos {
        self.toks[self.i].pos.clone()
    }

    /// `%` lines met between tokens are collected as definitions where they
    /// occur (rpcgen prints them at that point).
    fn passthrough(&mut self, out: &mut Vec<Def>) {
        while let TokKind::Pass(text) = self.peek() {
            out.push(Def::Pass(text.clone()));
            self.i += 1;
        }
    }

    fn skip_pass(&mut self, pending: &mut Vec<Def>) {
        self.passthrough(pending);
    }

    fn describe(kind: &TokKind) -> String {
        match kind {
            TokKind::Ident(s) => format!("`{s}`"),
            TokKind::Num(s) => format!("number {s}"),
            TokKind::Punct(c) => format!("`{c}`"),
            TokKind::Str(s) => format!("string {s}"),
            TokKind::Pass(_) => "a % line".to_string(),
            TokKind::Eof => "end of input".to_string(),
        }
    }

    fn expected<T>(&self, what: &str) -> Result<T, IdlError> {
        Err(IdlError::new(
            self.pos(),
            format!("expected {what}, found {}", Self::describe(self.peek())),
        ))
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek() == &TokKind::Punct(c)
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.is_punct(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn punct(&mut self, c: char) -> Result<(), IdlError> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            self.expected(&format!("`{c}`"))
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), TokKind::Ident(s) if s == w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self, w: &str) -> Result<(), IdlError> {
        if self.eat_word(w) {
            Ok(())
        } else {
            self.expected(&format!("`{w}`"))
        }
    }

    /// An identifier that is not a keyword.
    fn ident(&mut self, what: &str) -> Result<(String, Pos), IdlError> {
        match self.peek().clone() {
            TokKind::Ident(s) if !KEYWORDS.contains(&s.as_str()) => {
                let pos = self.pos();
                self.i += 1;
                Ok((s, pos))
            }
            _ => self.expected(what),
        }
    }

    /// A constant: a number or a name.
    fn value(&mut self, what: &str) -> Result<Value, IdlError> {
        let pos = self.pos();
        match self.peek().clone() {
            TokKind::Num(text) => {
                self.i += 1;
                Ok(Value { text, pos })
            }
            TokKind::Ident(s) if !KEYWORDS.contains(&s.as_str()) => {
                self.i += 1;
                Ok(Value { text: s, pos })
            }
            _ => self.expected(what),
        }
    }

    fn definition(&mut self, pending: &mut Vec<Def>) -> Result<Def, IdlError> {
        let pos = self.pos();
        let kw = match self.peek() {
            TokKind::Ident(s) => s.clone(),
            _ => String::new(),
        };
        let def = match kw.as_str() {
            "const" => {
                self.i += 1;
                let (name, _) = self.ident("a constant name")?;
                self.punct('=')?;
                let value = if let TokKind::Str(text) = self.peek().clone() {
                    let pos = self.pos();
                    self.i += 1;
                    Value { text, pos }
                } else {
                    self.value("a number, string or constant name")?
                };
                Def::Const(ConstDef { name, value, pos })
            }
            "typedef" => {
                self.i += 1;
                let d = self.declaration(DeclCtx::Typedef)?;
                // `typedef struct foo foo;` restates what rpcgen's C output
                // already declares: nothing to define.
                if matches!(d.kind, Kind::Plain) && d.ty == Type::Named(d.name.clone()) {
                    self.skip_pass(pending);
                    self.punct(';')?;
                    return self.definition_or_pass(pending);
                }
                Def::Typedef(d)
            }
            "enum" => {
                self.i += 1;
                let (name, _) = self.ident("an enum name")?;
                self.enum_body(name, pos, pending)?
            }
            "struct" => {
                self.i += 1;
                let (name, _) = self.ident("a struct name")?;
                self.struct_body(name, pos, pending)?
            }
            "union" => {
                self.i += 1;
                let (name, _) = self.ident("a union name")?;
                self.union_body(name, pos, pending)?
            }
            "program" => {
                self.i += 1;
                self.program(pos, pending)?
            }
            _ => {
                return self
                    .expected("a definition (const, typedef, enum, struct, union or program)")
            }
        };
        self.skip_pass(pending);
        self.punct(';')?;
        Ok(def)
    }

    /// After a definition that defines nothing: the next definition, or a
    /// `%` line standing in for one.
    fn definition_or_pass(&mut self, pending: &mut Vec<Def>) -> Result<Def, IdlError> {
        self.skip_pass(pending);
        if self.peek() == &TokKind::Eof {
            return Ok(pending.pop().unwrap_or(Def::Pass(String::new())));
        }
        self.definition(pending)
    }

    fn enum_body(
        &mut self,
        name: String,
        pos: Pos,
        pending: &mut Vec<Def>,
    ) -> Result<Def, IdlError> {
        self.punct('{')?;
        let mut items = Vec::new();
        loop {
            self.skip_pass(pending);
            let (item, ipos) = self.ident("an enum item name")?;
            let value = if self.eat_punct('=') {
                Some(self.value("a number or constant name")?)
            } else {
                None
            };
            items.push((item, value, ipos));
            self.skip_pass(pending);
            if self.eat_punct(',') {
                continue;
            }
            if self.eat_punct('}') {
                break;
            }
            return self.expected("`,` or `}`");
        }
        Ok(Def::Enum(EnumDef { name, items, pos }))
    }

    fn struct_body(
        &mut self,
        name: String,
        pos: Pos,
        pending: &mut Vec<Def>,
    ) -> Result<Def, IdlError> {
        self.punct('{')?;
        let mut fields = Vec::new();
        loop {
            self.skip_pass(pending);
            fields.push(self.declaration(DeclCtx::Field)?);
            self.punct(';')?;
            self.skip_pass(pending);
            if self.eat_punct('}') {
                break;
            }
        }
        Ok(Def::Struct(StructDef { name, fields, pos }))
    }

    fn union_body(
        &mut self,
        name: String,
        pos: Pos,
        pending: &mut Vec<Def>,
    ) -> Result<Def, IdlError> {
        self.word("switch")?;
        self.punct('(')?;
        let discr = self.declaration(DeclCtx::Field)?;
        self.punct(')')?;
        self.punct('{')?;
        let mut arms = Vec::new();
        let mut default = None;
        self.skip_pass(pending);
        if !self.is_word("case") {
            return self.expected("`case`");
        }
        loop {
            self.skip_pass(pending);
            if self.eat_word("case") {
                let mut cases = vec![self.value("a case value")?];
                self.punct(':')?;
                while self.eat_word("case") {
                    cases.push(self.value("a case value")?);
                    self.punct(':')?;
                }
                let decl = self.declaration(DeclCtx::Arm)?;
                self.punct(';')?;
                arms.push(Arm { cases, decl });
            } else if self.eat_word("default") {
                self.punct(':')?;
                let decl = self.declaration(DeclCtx::Arm)?;
                self.punct(';')?;
                default = Some(decl);
                self.skip_pass(pending);
                self.punct('}')?;
                break;
            } else if self.eat_punct('}') {
                break;
            } else {
                return self.expected("`case`, `default` or `}`");
            }
        }
        Ok(Def::Union(UnionDef {
            name,
            discr,
            arms,
            default,
            pos,
        }))
    }

    fn program(&mut self, pos: Pos, pending: &mut Vec<Def>) -> Result<Def, IdlError> {
        let (name, _) = self.ident("a program name")?;
        self.punct('{')?;
        let mut versions = Vec::new();
        loop {
            self.skip_pass(pending);
            let vpos = self.pos();
            self.word("version")?;
            let (vname, _) = self.ident("a version name")?;
            self.punct('{')?;
            let mut procs = Vec::new();
            loop {
                self.skip_pass(pending);
                procs.push(self.procedure()?);
                self.skip_pass(pending);
                if self.eat_punct('}') {
                    break;
                }
            }
            self.punct('=')?;
            let number = self.value("a version number")?;
            self.punct(';')?;
            versions.push(VersionDef {
                name: vname,
                number,
                procs,
                pos: vpos,
            });
            self.skip_pass(pending);
            if self.eat_punct('}') {
                break;
            }
        }
        self.punct('=')?;
        let number = self.value("a program number")?;
        Ok(Def::Program(ProgramDef {
            name,
            number,
            versions,
            pos,
        }))
    }

    fn procedure(&mut self) -> Result<ProcDef, IdlError> {
        let pos = self.pos();
        let result = self.proc_type(true)?;
        let (name, _) = self.ident("a procedure name")?;
        self.punct('(')?;
        let mut args = Vec::new();
        if !self.is_punct(')') {
            loop {
                let apos = self.pos();
                let arg = self.proc_type(false)?;
                // rpcgen -N lets an argument carry a name, which it ignores.
                if let TokKind::Ident(s) = self.peek() {
                    if !KEYWORDS.contains(&s.as_str()) {
                        self.i += 1;
                    }
                }
                if arg.is_void() && (!args.is_empty() || self.is_punct(',')) {
                    return Err(IdlError::new(
                        apos,
                        "void is allowed only as the sole argument of a procedure",
                    ));
                }
                if !arg.is_void() {
                    args.push(arg);
                }
                if self.eat_punct(',') {
                    continue;
                }
                break;
            }
        }
        self.punct(')')?;
        self.punct('=')?;
        let number = self.value("a procedure number")?;
        self.punct(';')?;
        Ok(ProcDef {
            name,
            number,
            result,
            args,
            pos,
        })
    }

    /// A procedure's result or argument type: a type specifier, `string`
    /// (with an optional `<bound>`), or `T *` for an argument.
    fn proc_type(&mut self, result: bool) -> Result<Decl, IdlError> {
        let pos = self.pos();
        if self.is_word("opaque") {
            return Err(IdlError::new(
                pos,
                format!(
                    "illegal {} type opaque: use a typedef",
                    if result { "result" } else { "argument" }
                ),
            ));
        }
        if self.eat_word("string") {
            let bound = if self.eat_punct('<') {
                let b = if self.is_punct('>') {
                    None
                } else {
                    Some(self.value("a bound")?)
                };
                self.punct('>')?;
                b
            } else {
                None
            };
            return Ok(Decl {
                name: String::new(),
                ty: Type::String,
                kind: Kind::Var(bound),
                pos,
            });
        }
        let ty = self.type_spec()?;
        let kind = if !result && ty != Type::Void && self.eat_punct('*') {
            Kind::Optional
        } else {
            Kind::Plain
        };
        Ok(Decl {
            name: String::new(),
            ty,
            kind,
            pos,
        })
    }

    /// A type specifier: a base type, `unsigned ...`, `struct|enum|union NAME`
    /// or a type name.
    fn type_spec(&mut self) -> Result<Type, IdlError> {
        let word = match self.peek() {
            TokKind::Ident(s) => s.clone(),
            _ => return self.expected("a type specifier"),
        };
        self.i += 1;
        let ty = match word.as_str() {
            "void" => Type::Void,
            "int" => Type::Int,
            "hyper" => Type::Hyper,
            "float" => Type::Float,
            "double" => Type::Double,
            "quadruple" => Type::Quadruple,
            "bool" => Type::Bool,
            "char" => Type::Char,
            "short" => Type::Short,
            "long" => Type::Long,
            "opaque" => Type::Opaque,
            "string" => Type::String,
            "unsigned" => {
                let next = match self.peek() {
                    TokKind::Ident(s) => s.clone(),
                    _ => String::new(),
                };
                let ty = match next.as_str() {
                    "int" => Type::UInt,
                    "hyper" => Type::UHyper,
                    "char" => Type::UChar,
                    "short" => Type::UShort,
                    "long" => Type::ULong,
                    _ => return Ok(Type::UInt),
                };
                self.i += 1;
                ty
            }
            "struct" | "enum" | "union" => {
                if self.is_punct('{') {
                    return Err(IdlError::new(
                        self.pos(),
                        format!("anonymous {word} types are not allowed here: define a named {word} and use its name"),
                    ));
                }
                let (name, _) = self.ident(&format!("a {word} name"))?;
                Type::Named(name)
            }
            // Fixed-width names from <stdint.h> and <sys/types.h> that
            // libtirpc gives XDR routines for.
            "int32_t" => Type::Int,
            "uint32_t" | "u_int32_t" | "u_int" => Type::UInt,
            "u_char" => Type::UChar,
            "u_short" => Type::UShort,
            "u_long" => Type::ULong,
            // libtirpc's names for RPC numbers (32-bit unsigned).
            "rpcprog_t" | "rpcvers_t" | "rpcproc_t" | "rpcprot_t" | "rpcport_t" => Type::UInt,
            "int64_t" | "quad_t" => Type::Hyper,
            "uint64_t" | "u_int64_t" | "u_quad_t" => Type::UHyper,
            "bool_t" => Type::Bool,
            w if KEYWORDS.contains(&w) => {
                self.i -= 1;
                return self.expected("a type specifier");
            }
            _ => Type::Named(word),
        };
        Ok(ty)
    }

    fn declaration(&mut self, ctx: DeclCtx) -> Result<Decl, IdlError> {
        let pos = self.pos();
        let ty = self.type_spec()?;
        if ty == Type::Void {
            if ctx != DeclCtx::Arm {
                return Err(IdlError::new(
                    pos,
                    "void is allowed only as a union arm or a procedure's argument or result",
                ));
            }
            return Ok(Decl {
                name: String::new(),
                ty,
                kind: Kind::Plain,
                pos,
            });
        }
        let optional = self.eat_punct('*');
        let (name, _) = self.ident("`*` or a name")?;
        let kind = if self.eat_punct('[') {
            let v = self.value("a constant or constant name")?;
            self.punct(']')?;
            Kind::Fixed(v)
        } else if self.eat_punct('<') {
            let v = if self.is_punct('>') {
                None
            } else {
                Some(self.value("a constant or constant name")?)
            };
            self.punct('>')?;
            Kind::Var(v)
        } else {
            Kind::Plain
        };
        let array = !matches!(kind, Kind::Plain);
        if optional && array {
            return Err(IdlError::new(
                pos,
                "no arrays of pointers: use a typedef for the pointer type",
            ));
        }
        if ty == Type::Opaque && !array {
            return Err(IdlError::new(
                pos,
                "opaque must be declared as an array: opaque x[n] or opaque x<n>",
            ));
        }
        if ty == Type::String && !matches!(kind, Kind::Var(_)) {
            return Err(IdlError::new(
                pos,
                "string must be declared variable-length: string x<n> or string x<>",
            ));
        }
        let kind = if optional { Kind::Optional } else { kind };
        Ok(Decl {
            name,
            ty,
            kind,
            pos,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DeclCtx {
    Typedef,
    Field,
    Arm,
}
