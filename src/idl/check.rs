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
    /// Every type the specification defines, by name.
    pub types: HashMap<&'a str, TypeDef<'a>>,
    consts: HashMap<&'a str, &'a Value>,
    /// Enum items: name -> (enum name, value as written or None).
    items: HashMap<&'a str, (&'a str, i64)>,
    sizes: RefCell<HashMap<String, Option<usize>>>,
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
        let mut m = Model {
            spec,
            types: HashMap::new(),
            consts: HashMap::new(),
            items: HashMap::new(),
            sizes: RefCell::new(HashMap::new()),
        };
        let mut names: HashMap<&str, &Pos> = HashMap::new();
        let mut define = |name: &'a str, pos: &'a Pos| -> Result<(), IdlError> {
            if let Some(first) = names.insert(name, pos) {
                return Err(dup(pos, name, first));
            }
            Ok(())
        };
        for def in &spec.defs {
            match def {
                Def::Const(c) => {
                    define(&c.name, &c.pos)?;
                    m.consts.insert(&c.name, &c.value);
                }
                Def::Typedef(d) => {
                    define(&d.name, &d.pos)?;
                    m.types.insert(&d.name, TypeDef::Typedef(d));
                }
                Def::Enum(e) => {
                    define(&e.name, &e.pos)?;
                    m.types.insert(&e.name, TypeDef::Enum(e));
                    for (item, _, pos) in &e.items {
                        define(item, pos)?;
                    }
                }
                Def::Struct(s) => {
                    define(&s.name, &s.pos)?;
                    m.types.insert(&s.name, TypeDef::Struct(s));
                }
                Def::Union(u) => {
                    define(&u.name, &u.pos)?;
                    m.types.insert(&u.name, TypeDef::Union(u));
                }
                Def::Program(p) => {
                    define(&p.name, &p.pos)?;
                    for v in &p.versions {
                        define(&v.name, &v.pos)?;
                    }
                }
                Def::Pass(_) => {}
            }
        }
        // Enum items, in order (an item may use an earlier one or a constant).
        for def in &spec.defs {
            if let Def::Enum(e) = def {
                let mut next = 0i64;
                for (item, value, pos) in &e.items {
                    let v = match value {
                        Some(v) => m.value(v).map_err(|_| {
                            IdlError::new(
                                pos.clone(),
                                format!("the value of enum item {item} is not a known constant"),
                            )
                        })?,
                        None => next,
                    };
                    m.items.insert(item, (&e.name, v));
                    next = v.wrapping_add(1);
                }
            }
        }
        m.check_all()?;
        Ok(m)
    }

    /// The numeric value of a constant expression.
    pub fn value(&self, v: &Value) -> Result<i64, IdlError> {
        self.value_depth(v, 0)
    }

    fn value_depth(&self, v: &Value, depth: usize) -> Result<i64, IdlError> {
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
            return Ok(*n);
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
        let n = self.value(v)?;
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
                Def::Const(c) => match self.value(&c.value) {
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

    /// A type used but not defined in the file. rpcgen accepts these (the
    /// C code must then supply them, as libtirpc does `netobj`): the C
    /// generator calls the user's `xipc_encode_T`, `xipc_decode_T` and
    /// `xipc_free_T`; the Python and Rust generators reject them.
    pub fn is_external(&self, ty: &Type) -> bool {
        matches!(ty, Type::Named(n) if !self.types.contains_key(n.as_str()))
    }

    /// Fails on an external type (see [`Model::is_external`]).
    pub fn require_defined(&self, d: &Decl) -> Result<(), IdlError> {
        if let Type::Named(n) = &d.ty {
            if !self.types.contains_key(n.as_str()) {
                return Err(IdlError::new(
                    d.pos.clone(),
                    format!("type {n} is not defined in the .x file (only C output may use types defined elsewhere)"),
                ));
            }
        }
        Ok(())
    }

    fn check_decl(&self, d: &Decl) -> Result<(), IdlError> {
        // A bound may name a constant only the C code knows (from a `%`
        // line or a system header), as rpcgen allows; the Python and Rust
        // generators fail on it when they need its value.
        match &d.kind {
            Kind::Fixed(v) | Kind::Var(Some(v)) if v.is_literal() || self.value(v).is_ok() => {
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
        let mut seen: HashMap<i64, &Pos> = HashMap::new();
        for arm in &u.arms {
            for c in &arm.cases {
                let v = self.value(c)?;
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
