//! Semantic checks and the lookups the generators share: names are defined
//! once, every type used is defined, constants resolve, union discriminants
//! are integers and case values distinct, and no type contains itself except
//! through optional data.

use super::ast::*;
use super::lex::parse_number;
use super::{IdlError, Pos};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// A named type.
#[derive(Clone, Copy, Debug)]
pub enum TypeDef<'a> {
    /// Defined by a `typedef`.
    Typedef(&'a Decl),
    /// An `enum`.
    Enum(&'a EnumDef),
    /// A `struct`.
    Struct(&'a StructDef),
    /// A `union`.
    Union(&'a UnionDef),
}

/// A checked specification with its symbol tables.
///
/// ```
/// use xipc::idl::{ast::Type, check::Model, parse, Input, Options};
/// let x = "const N = 0x10;\nenum color { RED = 1, BLUE = N };\n\
///          struct pair { int a; hyper b; opaque tag[3]; };\n";
/// let spec = parse(&Input::text("m.x", x), &Options::default(), &["RPC_XDR"])?;
/// let model = Model::new(&spec)?;
/// assert_eq!(model.item_value("BLUE"), Some(16));
/// assert_eq!(model.item_enum("RED"), Some("color"));
/// // Wire size: 4 + 8 + 3 bytes padded to 4.
/// assert_eq!(model.type_size(&Type::Named("pair".into())), Some(16));
/// # Ok::<(), xipc::idl::IdlError>(())
/// ```
pub struct Model<'a> {
    /// The specification checked.
    pub spec: &'a Spec,
    /// Every type the specification can use, by name: its own, those of
    /// the files it imports and the well-known ONC RPC types.
    pub types: HashMap<&'a str, TypeDef<'a>>,
    /// Where each name defined outside `spec` comes from.
    origins: HashMap<&'a str, Origin<'a>>,
    /// Constants, and the names of programs, versions and procedures
    /// (rpcgen `#define`s them all, so any may stand for a number).
    consts: HashMap<&'a str, &'a Value>,
    /// `%#define NAME VALUE` lines of the specification: C sees these
    /// constants (rpcgen copies the line); the other languages use their
    /// values.
    pass_consts: HashMap<String, Value>,
    /// Enum items: name -> (enum name, value as written or None).
    items: HashMap<&'a str, (&'a str, i64)>,
    sizes: RefCell<HashMap<String, Option<usize>>>,
}

/// Where a definition used by a specification comes from, when it is not
/// the specification itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin<'a> {
    /// The well-known ONC RPC types and constants that rpcgen's output
    /// takes from the system headers (`netobj`, `des_block`, ...): see
    /// [`WELL_KNOWN`]. The xipc runtime of each language provides them.
    WellKnown,
    /// Another `.x` file, imported: the module (output base name) whose
    /// generated code defines it.
    Module(&'a str),
}

/// The well-known ONC RPC definitions, as `.x` text: the types and
/// constants that rpcgen's output takes from libtirpc's headers and that
/// `.x` files use without defining. Every specification may use them; a
/// definition of the same name in the specification takes precedence.
pub const WELL_KNOWN: &str = include_str!("wellknown.x");

/// Another `.x` file whose definitions a specification uses: its
/// definitions and the base name of its generated files.
#[derive(Clone, Debug)]
pub struct Import {
    /// Base name of the other file's generated code (`nis` for `nis.x`:
    /// `nis.h`, `nis.py`, `nis.rs`).
    pub module: String,
    /// Its definitions.
    pub spec: Spec,
}

thread_local! {
    /// The parsed [`WELL_KNOWN`] definitions; kept for the thread's life,
    /// as every model refers to them.
    static WELL_KNOWN_SPEC: &'static Spec = Box::leak(Box::new(parse_well_known()));
}

fn parse_well_known() -> Spec {
    let toks = super::lex::Lexer::new(&super::lex::PreprocessOptions::default())
        .run("<well-known>", WELL_KNOWN, None)
        .expect("the well-known definitions lex");
    super::parse::Parser::new(toks)
        .spec()
        .expect("the well-known definitions parse")
}

/// The well-known definitions (see [`WELL_KNOWN`]), parsed.
pub fn well_known() -> &'static Spec {
    WELL_KNOWN_SPEC.with(|s| *s)
}

fn dup(pos: &Pos, name: &str, first: &Pos) -> IdlError {
    IdlError::new(
        pos.clone(),
        format!("{name} is already defined (first at {first})"),
    )
}

impl<'a> Model<'a> {
    /// Checks `spec` and builds its symbol tables, or returns the first
    /// error found, with its position.
    pub fn new(spec: &'a Spec) -> Result<Model<'a>, IdlError> {
        Model::with_imports(spec, &[])
    }

    /// Like [`Model::new`], for a specification that also uses the
    /// definitions of other `.x` files. A name defined twice (here and in
    /// an import, or in two imports) is an error; a name the specification
    /// defines hides a well-known one.
    pub fn with_imports(spec: &'a Spec, imports: &'a [Import]) -> Result<Model<'a>, IdlError> {
        let mut m = Model {
            spec,
            types: HashMap::new(),
            origins: HashMap::new(),
            consts: HashMap::new(),
            pass_consts: pass_defines(spec),
            items: HashMap::new(),
            sizes: RefCell::new(HashMap::new()),
        };
        let mut names: HashMap<&str, &Pos> = HashMap::new();
        for imp in imports {
            m.add_defs(&imp.spec, Origin::Module(&imp.module), &mut names)?;
        }
        m.add_defs(spec, Origin::Module(""), &mut names)?;
        // The well-known names fill in what no file defines.
        let mut wk_names = HashMap::new();
        let mut wk = Model {
            spec,
            types: HashMap::new(),
            origins: HashMap::new(),
            consts: HashMap::new(),
            pass_consts: HashMap::new(),
            items: HashMap::new(),
            sizes: RefCell::new(HashMap::new()),
        };
        wk.add_defs(well_known(), Origin::WellKnown, &mut wk_names)?;
        for (name, pos) in wk_names {
            if names.contains_key(name) {
                continue;
            }
            names.insert(name, pos);
            if let Some(t) = wk.types.get(name) {
                m.types.insert(name, *t);
            }
            if let Some(v) = wk.consts.get(name) {
                m.consts.insert(name, v);
            }
            m.origins.insert(name, Origin::WellKnown);
        }
        for def in well_known()
            .defs
            .iter()
            .chain(imports.iter().flat_map(|i| &i.spec.defs))
        {
            if let Def::Enum(e) = def {
                if m.types
                    .get(e.name.as_str())
                    .is_some_and(|t| matches!(t, TypeDef::Enum(x) if std::ptr::eq(*x, e)))
                {
                    m.enum_items(e)?;
                }
            }
        }
        for def in &spec.defs {
            if let Def::Enum(e) = def {
                m.enum_items(e)?;
            }
        }
        m.check_all()?;
        Ok(m)
    }

    /// Enters the definitions of `spec` in the tables, from `origin`.
    fn add_defs(
        &mut self,
        spec: &'a Spec,
        origin: Origin<'a>,
        names: &mut HashMap<&'a str, &'a Pos>,
    ) -> Result<(), IdlError> {
        let mut define = |name: &'a str, pos: &'a Pos| -> Result<(), IdlError> {
            if let Some(first) = names.insert(name, pos) {
                return Err(dup(pos, name, first));
            }
            Ok(())
        };
        let mut defined = Vec::new();
        for def in &spec.defs {
            match def {
                Def::Const(c) => {
                    define(&c.name, &c.pos)?;
                    self.consts.insert(&c.name, &c.value);
                    defined.push(c.name.as_str());
                }
                Def::Typedef(d) => {
                    define(&d.name, &d.pos)?;
                    self.types.insert(&d.name, TypeDef::Typedef(d));
                    defined.push(d.name.as_str());
                }
                Def::Enum(e) => {
                    define(&e.name, &e.pos)?;
                    self.types.insert(&e.name, TypeDef::Enum(e));
                    defined.push(e.name.as_str());
                    for (item, _, pos) in &e.items {
                        define(item, pos)?;
                        defined.push(item.as_str());
                    }
                }
                Def::Struct(s) => {
                    define(&s.name, &s.pos)?;
                    self.types.insert(&s.name, TypeDef::Struct(s));
                    defined.push(s.name.as_str());
                }
                Def::Union(u) => {
                    define(&u.name, &u.pos)?;
                    self.types.insert(&u.name, TypeDef::Union(u));
                    defined.push(u.name.as_str());
                }
                Def::Program(p) => {
                    define(&p.name, &p.pos)?;
                    self.consts.insert(&p.name, &p.number);
                    defined.push(p.name.as_str());
                    for v in &p.versions {
                        define(&v.name, &v.pos)?;
                        self.consts.insert(&v.name, &v.number);
                        defined.push(v.name.as_str());
                        // A procedure name may recur in another version
                        // (checked to keep its number); the first is
                        // rpcgen's `#define`.
                        for pr in &v.procs {
                            if !self.consts.contains_key(pr.name.as_str()) {
                                self.consts.insert(&pr.name, &pr.number);
                                defined.push(pr.name.as_str());
                            }
                        }
                    }
                }
                Def::Pass(_) => {}
            }
        }
        if let Origin::Module(m) = origin {
            if !m.is_empty() {
                for name in defined {
                    self.origins.insert(name, origin);
                }
            }
        }
        Ok(())
    }

    /// Enters the items of enum `e`, in order (an item may use an earlier
    /// one or a constant); each must fit in a 32-bit int.
    fn enum_items(&mut self, e: &'a EnumDef) -> Result<(), IdlError> {
        let mut next = 0i64;
        for (item, value, pos) in &e.items {
            let v = match value {
                Some(v) => self.value(v).map_err(|err| {
                    if err.message.contains("out of range") {
                        err
                    } else {
                        IdlError::new(
                            pos.clone(),
                            format!("the value of enum item {item} is not a known constant"),
                        )
                    }
                })?,
                None => next,
            };
            if i32::try_from(v).is_err() {
                return Err(IdlError::new(
                    pos.clone(),
                    format!("the value of enum item {item} ({v}) does not fit in a 32-bit int"),
                ));
            }
            self.items.insert(item, (&e.name, v));
            next = v + 1;
        }
        Ok(())
    }

    /// Adds the `%#define NAME VALUE` constants of `spec` (the same file
    /// read for another output, e.g. with `RPC_HDR`), for values that name
    /// them.
    pub fn add_pass_defines(&mut self, spec: &Spec) {
        for (k, v) in pass_defines(spec) {
            self.pass_consts.entry(k).or_insert(v);
        }
    }

    /// Where a name is defined when it is not in the specification itself:
    /// the well-known definitions or an imported file.
    pub fn origin(&self, name: &str) -> Option<Origin<'a>> {
        self.origins.get(name).copied()
    }

    /// The origin of a named type defined outside the specification.
    pub fn type_origin(&self, ty: &Type) -> Option<Origin<'a>> {
        match ty {
            Type::Named(n) => self.origin(n),
            _ => None,
        }
    }

    /// The value of a constant named `name` (a `const`, program, version or
    /// procedure name), if it has one.
    pub fn const_value(&self, name: &str) -> Option<i128> {
        self.consts.get(name).and_then(|v| self.value_wide(v).ok())
    }

    /// The well-known names (see [`WELL_KNOWN`]) the specification uses:
    /// types its declarations name and constants its values name, sorted.
    pub fn used_well_known(&self) -> Vec<&'a str> {
        let mut used: Vec<&'a str> = Vec::new();
        let mut note = |name: &str| {
            if self.origin(name) == Some(Origin::WellKnown) {
                if let Some((k, _)) = self.origins.get_key_value(name) {
                    if !used.contains(k) {
                        used.push(k);
                    }
                }
            }
        };
        let decl = |d: &Decl, note: &mut dyn FnMut(&str)| {
            if let Type::Named(n) = &d.ty {
                note(n);
            }
            if let Kind::Fixed(v) | Kind::Var(Some(v)) = &d.kind {
                note(&v.text);
            }
        };
        for def in &self.spec.defs {
            match def {
                Def::Const(c) => note(&c.value.text),
                Def::Typedef(d) => decl(d, &mut note),
                Def::Enum(e) => {
                    for (_, v, _) in &e.items {
                        if let Some(v) = v {
                            note(&v.text);
                        }
                    }
                }
                Def::Struct(s) => {
                    for f in &s.fields {
                        decl(f, &mut note);
                    }
                }
                Def::Union(u) => {
                    decl(&u.discr, &mut note);
                    for a in &u.arms {
                        decl(&a.decl, &mut note);
                        for c in &a.cases {
                            note(&c.text);
                        }
                    }
                    if let Some(d) = &u.default {
                        decl(d, &mut note);
                    }
                }
                Def::Program(p) => {
                    note(&p.number.text);
                    for v in &p.versions {
                        note(&v.number.text);
                        for pr in &v.procs {
                            note(&pr.number.text);
                            decl(&pr.result, &mut note);
                            for a in &pr.args {
                                decl(a, &mut note);
                            }
                        }
                    }
                }
                Def::Pass(_) => {}
            }
        }
        used.sort_unstable();
        used
    }

    /// The imported modules the local definitions use, in first-use order.
    pub fn used_modules(&self) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = Vec::new();
        let mut names: Vec<&str> = self.origins.keys().copied().collect();
        names.sort_unstable();
        for n in names {
            if let Some(Origin::Module(m)) = self.origin(n) {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// The numeric value of a constant expression, which must fit in an
    /// `i64` (see [`Model::value_wide`] for constants up to 2^64 - 1).
    pub fn value(&self, v: &Value) -> Result<i64, IdlError> {
        let n = self.value_wide(v)?;
        i64::try_from(n).map_err(|_| {
            IdlError::new(
                v.pos.clone(),
                format!("{} ({n}) is out of range here", v.text),
            )
        })
    }

    /// The numeric value of a constant expression: from -2^63 to 2^64 - 1.
    pub fn value_wide(&self, v: &Value) -> Result<i128, IdlError> {
        self.value_depth(v, 0)
    }

    fn value_depth(&self, v: &Value, depth: usize) -> Result<i128, IdlError> {
        if v.is_literal() {
            return parse_number(&v.text)
                .ok_or_else(|| IdlError::new(v.pos.clone(), format!("invalid number {}", v.text)));
        }
        if v.is_string() {
            return Err(IdlError::new(
                v.pos.clone(),
                format!("string {} is not a number", v.text),
            ));
        }
        if let Some((_, n)) = self.items.get(v.text.as_str()) {
            return Ok(i128::from(*n));
        }
        if let Some(c) = self.consts.get(v.text.as_str()) {
            if depth > 64 {
                return Err(IdlError::new(
                    v.pos.clone(),
                    format!("constant {} is defined in terms of itself", v.text),
                ));
            }
            return self.value_depth(c, depth + 1);
        }
        if let Some(c) = self.pass_consts.get(v.text.as_str()) {
            if depth > 64 {
                return Err(IdlError::new(
                    v.pos.clone(),
                    format!("macro {} is defined in terms of itself", v.text),
                ));
            }
            // A sum or difference of numbers and names (`LM_MAXSTRLEN+1`).
            let mut total = 0i128;
            for (sign, term) in split_terms(&c.text) {
                let term = Value {
                    text: term.to_string(),
                    pos: v.pos.clone(),
                };
                total += sign * self.value_depth(&term, depth + 1)?;
            }
            return Ok(total);
        }
        // rpcgen's C output sees libtirpc's TRUE and FALSE.
        match v.text.as_str() {
            "TRUE" => return Ok(1),
            "FALSE" => return Ok(0),
            _ => {}
        }
        Err(IdlError::new(
            v.pos.clone(),
            format!("{} is not a defined constant or enum item", v.text),
        ))
    }

    /// True when a constant's definition leads back to itself.
    fn is_cycle(&self, v: &Value) -> bool {
        let mut name = v.text.as_str();
        for _ in 0..=self.consts.len() {
            match self.consts.get(name) {
                Some(next) if !next.is_literal() => name = &next.text,
                _ => return false,
            }
        }
        true
    }

    /// The enum an item belongs to.
    pub fn item_enum(&self, item: &str) -> Option<&'a str> {
        self.items.get(item).map(|(e, _)| *e)
    }

    /// A bound or array size: a non-negative value below 2^32.
    pub fn bound(&self, v: &Value) -> Result<u32, IdlError> {
        let n = self.value_wide(v)?;
        u32::try_from(n).map_err(|_| {
            IdlError::new(
                v.pos.clone(),
                format!("size {} ({n}) is not between 0 and 4294967295", v.text),
            )
        })
    }

    /// The type a named type finally is, following typedefs of plain
    /// declarations (`typedef int foo;`).
    pub fn resolve<'t>(&'t self, ty: &'t Type) -> &'t Type {
        let mut ty = ty;
        for _ in 0..64 {
            match ty {
                Type::Named(n) => match self.types.get(n.as_str()) {
                    Some(TypeDef::Typedef(d)) if matches!(d.kind, Kind::Plain) => ty = &d.ty,
                    _ => return ty,
                },
                _ => return ty,
            }
        }
        ty
    }

    /// The struct a declaration points to when it is optional data: `S *f`,
    /// or a field whose type is a typedef of `S *` (`typedef struct S *P;`),
    /// through plain typedefs on either side.
    pub fn pointee(&self, d: &Decl) -> Option<&'a str> {
        let target = match &d.kind {
            Kind::Optional => &d.ty,
            Kind::Plain => {
                let mut ty = &d.ty;
                let mut found = None;
                for _ in 0..64 {
                    let Type::Named(n) = ty else { return None };
                    match self.types.get(n.as_str()) {
                        Some(TypeDef::Typedef(t)) if matches!(t.kind, Kind::Plain) => ty = &t.ty,
                        Some(TypeDef::Typedef(t)) if matches!(t.kind, Kind::Optional) => {
                            found = Some(&t.ty);
                            break;
                        }
                        _ => return None,
                    }
                }
                found?
            }
            _ => return None,
        };
        match self.resolve(target) {
            Type::Named(n) => match self.types.get(n.as_str()) {
                Some(TypeDef::Struct(s)) => Some(s.name.as_str()),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether struct `s` is a linked list: its last field points to `s`
    /// itself (see [`Model::pointee`]) and no other field does. The
    /// generators encode and decode such a chain in a loop, counting one
    /// nesting level for the whole list; a struct with two links to itself
    /// (a tree), or one that is not its last field, stays recursive.
    pub fn is_list(&self, s: &StructDef) -> bool {
        let links = s
            .fields
            .iter()
            .filter(|f| self.pointee(f) == Some(s.name.as_str()))
            .count();
        links == 1
            && s.fields
                .last()
                .is_some_and(|f| self.pointee(f) == Some(s.name.as_str()))
    }

    /// The enum behind a type, if it is one (through plain typedefs).
    pub fn as_enum(&self, ty: &Type) -> Option<&'a EnumDef> {
        match self.resolve(ty) {
            Type::Named(n) => match self.types.get(n.as_str()) {
                Some(TypeDef::Enum(e)) => Some(e),
                _ => None,
            },
            _ => None,
        }
    }

    /// Wire size of a declaration when it is the same for every value.
    pub fn decl_size(&self, d: &Decl) -> Option<usize> {
        match &d.kind {
            Kind::Plain => self.type_size(&d.ty),
            Kind::Fixed(n) => {
                let n = self.bound(n).ok()? as usize;
                if d.ty == Type::Opaque {
                    return Some(crate::xdr::padded_len(n));
                }
                self.type_size(&d.ty)?.checked_mul(n)
            }
            Kind::Var(_) | Kind::Optional => None,
        }
    }

    /// Wire size of a type when it is the same for every value.
    pub fn type_size(&self, ty: &Type) -> Option<usize> {
        match ty {
            Type::Void => Some(0),
            Type::Hyper | Type::UHyper | Type::Double => Some(8),
            Type::Quadruple => Some(16),
            Type::Opaque | Type::String => None,
            Type::Named(n) => {
                if let Some(s) = self.sizes.borrow().get(n) {
                    return *s;
                }
                // Guard against recursion while computing.
                self.sizes.borrow_mut().insert(n.clone(), None);
                let s = match self.types.get(n.as_str()) {
                    Some(TypeDef::Enum(_)) => Some(4),
                    Some(TypeDef::Typedef(d)) => self.decl_size(d),
                    Some(TypeDef::Struct(s)) => s
                        .fields
                        .iter()
                        .try_fold(0usize, |acc, f| acc.checked_add(self.decl_size(f)?)),
                    Some(TypeDef::Union(_)) | None => None,
                };
                self.sizes.borrow_mut().insert(n.clone(), s);
                s
            }
            _ => Some(4),
        }
    }

    fn check_all(&self) -> Result<(), IdlError> {
        for def in &self.spec.defs {
            match def {
                // A constant may name one only the C code knows (rpcgen
                // copies it as is); Python and Rust fail when they need it.
                Def::Const(c) => match self.value_wide(&c.value) {
                    Err(e) if c.value.is_literal() || self.is_cycle(&c.value) => return Err(e),
                    _ => {}
                },
                Def::Typedef(d) => self.check_decl(d)?,
                Def::Enum(_) | Def::Pass(_) => {}
                Def::Struct(s) => {
                    let mut seen = HashSet::new();
                    for f in &s.fields {
                        if !seen.insert(f.name.as_str()) {
                            return Err(IdlError::new(
                                f.pos.clone(),
                                format!("field {} appears twice in struct {}", f.name, s.name),
                            ));
                        }
                        self.check_decl(f)?;
                    }
                }
                Def::Union(u) => self.check_union(u)?,
                Def::Program(p) => self.check_program(p)?,
            }
        }
        for def in &self.spec.defs {
            if let Some(name) = def.name() {
                if self.types.contains_key(name) {
                    self.check_no_self_containment(name, def_pos(def))?;
                }
            }
        }
        Ok(())
    }

    /// Fails on a type that is defined nowhere: not in the file, not in a
    /// file it imports, not among the well-known types.
    pub fn require_defined(&self, d: &Decl) -> Result<(), IdlError> {
        if let Type::Named(n) = &d.ty {
            if !self.types.contains_key(n.as_str()) {
                return Err(IdlError::new(
                    d.pos.clone(),
                    format!("unknown type {n}: it is not defined in the .x file, in a file it imports or among the well-known ONC RPC types"),
                ));
            }
        }
        Ok(())
    }

    fn check_decl(&self, d: &Decl) -> Result<(), IdlError> {
        if !d.is_void() {
            self.require_defined(d)?;
        }
        // A bound may name a constant only the C code knows (from a `%`
        // line or a system header), as rpcgen allows; the Python and Rust
        // generators fail on it when they need its value.
        match &d.kind {
            Kind::Fixed(v) | Kind::Var(Some(v)) if v.is_literal() || self.value_wide(v).is_ok() => {
                self.bound(v)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn check_union(&self, u: &UnionDef) -> Result<(), IdlError> {
        self.check_decl(&u.discr)?;
        let dt = self.resolve(&u.discr.ty);
        let enum_def = self.as_enum(&u.discr.ty);
        let ok = matches!(u.discr.kind, Kind::Plain)
            && (enum_def.is_some()
                || matches!(
                    dt,
                    Type::Int
                        | Type::UInt
                        | Type::Bool
                        | Type::Char
                        | Type::UChar
                        | Type::Short
                        | Type::UShort
                        | Type::Long
                        | Type::ULong
                ));
        if !ok {
            return Err(IdlError::new(
                u.discr.pos.clone(),
                format!(
                    "the discriminant of union {} must be int, unsigned int, bool or an enum",
                    u.name
                ),
            ));
        }
        let (lo, hi) = match dt {
            _ if enum_def.is_some() => (i64::from(i32::MIN), i64::from(i32::MAX)),
            Type::Bool => (0, 1),
            Type::UInt | Type::UChar | Type::UShort | Type::ULong => (0, i64::from(u32::MAX)),
            _ => (i64::from(i32::MIN), i64::from(i32::MAX)),
        };
        let mut seen: HashMap<i64, &Pos> = HashMap::new();
        for arm in &u.arms {
            for c in &arm.cases {
                let v = self.value(c)?;
                if v < lo || v > hi {
                    return Err(IdlError::new(
                        c.pos.clone(),
                        format!(
                            "case {} ({v}) is out of the range of the discriminant of union {} ({lo} to {hi})",
                            c.text, u.name
                        ),
                    ));
                }
                if let Some(e) = enum_def {
                    if self.enum_value_names(e, v).is_empty() {
                        return Err(IdlError::new(
                            c.pos.clone(),
                            format!("case {} is not a value of enum {}", c.text, e.name),
                        ));
                    }
                }
                if let Some(first) = seen.insert(v, &c.pos) {
                    return Err(IdlError::new(
                        c.pos.clone(),
                        format!(
                            "case value {} ({v}) appears twice in union {} (first at {first})",
                            c.text, u.name
                        ),
                    ));
                }
            }
            if !arm.decl.is_void() {
                self.check_decl(&arm.decl)?;
            }
        }
        if let Some(d) = &u.default {
            if !d.is_void() {
                self.check_decl(d)?;
            }
        }
        Ok(())
    }

    /// The arm of union `u` that its default value takes, and the
    /// discriminant: the one its all-zero encoding decodes to (discriminant
    /// 0, FALSE), or the first declared case when 0 is not a valid
    /// discriminant (an enum without an item 0, or no case 0 and no
    /// `default` arm). `None` for the arm means the `default` arm.
    pub fn default_case<'u>(&self, u: &'u UnionDef) -> (i64, Option<(&'u Arm, &'u Value)>) {
        let zero_ok = match self.as_enum(&u.discr.ty) {
            Some(e) => !self.enum_value_names(e, 0).is_empty(),
            None => true,
        };
        if zero_ok {
            for arm in &u.arms {
                for c in &arm.cases {
                    if self.value(c).ok() == Some(0) {
                        return (0, Some((arm, c)));
                    }
                }
            }
            if u.default.is_some() {
                return (0, None);
            }
        }
        let arm = &u.arms[0];
        (
            self.value(&arm.cases[0]).unwrap_or(0),
            Some((arm, &arm.cases[0])),
        )
    }

    /// The item of enum `e` that its default value is: the one worth 0, or
    /// the first declared when none is.
    pub fn default_item<'e>(&self, e: &'e EnumDef) -> &'e str {
        self.enum_value_names(e, 0)
            .first()
            .copied()
            .unwrap_or(e.items[0].0.as_str())
    }

    /// Items of `e` with value `v`.
    pub fn enum_value_names<'e>(&self, e: &'e EnumDef, v: i64) -> Vec<&'e str> {
        e.items
            .iter()
            .filter(|(n, _, _)| self.items.get(n.as_str()).map(|(_, x)| *x) == Some(v))
            .map(|(n, _, _)| n.as_str())
            .collect()
    }

    /// The value of an enum item.
    pub fn item_value(&self, item: &str) -> Option<i64> {
        self.items.get(item).map(|(_, v)| *v)
    }

    fn check_program(&self, p: &ProgramDef) -> Result<(), IdlError> {
        self.bound(&p.number)?;
        let mut vnums: HashMap<u32, &Pos> = HashMap::new();
        for v in &p.versions {
            let n = self.bound(&v.number)?;
            if let Some(first) = vnums.insert(n, &v.pos) {
                return Err(IdlError::new(
                    v.pos.clone(),
                    format!(
                        "version number {n} is used twice in program {} (first at {first})",
                        p.name
                    ),
                ));
            }
            let mut pnums: HashMap<u32, &Pos> = HashMap::new();
            let mut pnames: HashMap<&str, &Pos> = HashMap::new();
            for pr in &v.procs {
                if let Some(first) = pnames.insert(&pr.name, &pr.pos) {
                    return Err(dup(&pr.pos, &pr.name, first));
                }
                let n = self.bound(&pr.number)?;
                if let Some(first) = self.consts.get(pr.name.as_str()) {
                    let m = self.bound(first)?;
                    if m != n {
                        return Err(IdlError::new(
                            pr.number.pos.clone(),
                            format!(
                                "procedure {} is number {m} at {} and {n} here: rpcgen's C #define holds one number",
                                pr.name, first.pos
                            ),
                        ));
                    }
                }
                if let Some(first) = pnums.insert(n, &pr.pos) {
                    return Err(IdlError::new(
                        pr.pos.clone(),
                        format!(
                            "procedure number {n} is used twice in version {} (first at {first})",
                            v.name
                        ),
                    ));
                }
                if !pr.result.is_void() {
                    self.check_decl(&pr.result)?;
                }
                for a in &pr.args {
                    self.check_decl(a)?;
                }
            }
        }
        Ok(())
    }

    /// A type may contain itself only through optional data (`T *`) or a
    /// variable-length array.
    fn check_no_self_containment(&self, name: &str, pos: &Pos) -> Result<(), IdlError> {
        let mut stack = vec![name.to_string()];
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            let decls: Vec<&Decl> = match self.types.get(n.as_str()) {
                Some(TypeDef::Typedef(d)) => vec![d],
                Some(TypeDef::Struct(s)) => s.fields.iter().collect(),
                Some(TypeDef::Union(u)) => u
                    .arms
                    .iter()
                    .map(|a| &a.decl)
                    .chain(u.default.iter())
                    .collect(),
                _ => vec![],
            };
            for d in decls {
                if matches!(d.kind, Kind::Optional | Kind::Var(_)) {
                    continue;
                }
                if let Type::Named(t) = &d.ty {
                    if t == name {
                        return Err(IdlError::new(
                            pos.clone(),
                            format!("type {name} contains itself (through {n}); use optional data `{t} *` to make it recursive"),
                        ));
                    }
                    if seen.insert(t.clone()) {
                        stack.push(t.clone());
                    }
                }
            }
        }
        Ok(())
    }
}

/// The terms of a sum like `(A + 1 - B)`, each with its sign.
fn split_terms(text: &str) -> Vec<(i128, &str)> {
    let t = text.trim().trim_start_matches('(').trim_end_matches(')');
    let mut out = Vec::new();
    let mut sign = 1;
    let mut start = 0;
    for (i, c) in t.char_indices() {
        if (c == '+' || c == '-') && i > start {
            out.push((sign, t[start..i].trim()));
            sign = if c == '+' { 1 } else { -1 };
            start = i + 1;
        }
    }
    out.push((sign, t[start..].trim()));
    out
}

/// The `%#define NAME VALUE` lines of `spec` whose value is a number, a
/// name or a sum of them, as constants.
fn pass_defines(spec: &Spec) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for def in &spec.defs {
        let Def::Pass(text) = def else { continue };
        let Some(rest) = text.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("define") else {
            continue;
        };
        let rest = rest.split("/*").next().unwrap_or("").trim();
        let Some((name, value)) = rest.split_once(char::is_whitespace) else {
            continue;
        };
        let value = value.trim();
        let ok_name = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let ok_value = !value.is_empty()
            && split_terms(value).iter().all(|(_, t)| {
                parse_number(t).is_some()
                    || (!t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            });
        if ok_name && ok_value {
            out.insert(
                name.to_string(),
                Value {
                    text: value.to_string(),
                    pos: Pos::new(std::rc::Rc::from("<%#define>"), 0, 0),
                },
            );
        }
    }
    out
}

fn def_pos(def: &Def) -> &Pos {
    match def {
        Def::Const(c) => &c.pos,
        Def::Typedef(d) => &d.pos,
        Def::Enum(e) => &e.pos,
        Def::Struct(s) => &s.pos,
        Def::Union(u) => &u.pos,
        Def::Program(p) => &p.pos,
        Def::Pass(_) => unreachable!("no name"),
    }
}
