//! Values of `.x` types as JSON: XDR bytes are decoded into JSON by walking
//! the checked syntax tree of the `.x` file with [`xipc::xdr::Decoder`], and
//! JSON is encoded back into the same bytes with [`xipc::xdr::Encoder`].
//!
//! The mapping (the same both ways):
//!
//! | XDR                                      | JSON                                          |
//! |------------------------------------------|-----------------------------------------------|
//! | `int`, `unsigned`, `hyper`, `char`, ...  | number                                        |
//! | `float`, `double`                        | number; `"NaN"`, `"Infinity"`, `"-Infinity"`  |
//! | `bool`                                   | `true` / `false`                              |
//! | `enum`                                   | the item's name (encode also takes a number)  |
//! | `opaque[n]`, `opaque<n>`, `quadruple`    | hex string (`"00ff10"`)                       |
//! | `string<n>`                              | string; `{"hex": "..."}` when not UTF-8       |
//! | `T[n]`, `T<n>`                           | array                                         |
//! | `T *`                                    | `null` or the value                           |
//! | `struct`                                 | object, fields in declaration order           |
//! | `union`                                  | `{"discriminant": ..., "arm": ...}`           |
//! | `void`                                   | `null`                                        |
//!
//! Decoding enforces every bound of the `.x` file and the decoder's
//! [`Limits`]; an error names the JSON path of the item and the byte offset.

use std::fmt;
use std::rc::Rc;

use serde_json::{Map, Number, Value as Json};
use xipc::idl::ast::{Decl, EnumDef, Kind, StructDef, Type, UnionDef, Value};
use xipc::idl::check::{Model, TypeDef};
use xipc::idl::Pos;
use xipc::xdr::{Decoder, Encoder, Limits};

use crate::io::{from_hex, to_hex};

/// Why a value could not be decoded or encoded.
#[derive(Debug)]
pub enum Problem {
    /// The bytes broke XDR or a limit (the message names the byte offset).
    Xdr(xipc::Error),
    /// The JSON does not fit the type, or the `.x` file cannot be used.
    Mismatch(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Xdr(e) => write!(f, "{e}"),
            Problem::Mismatch(m) => f.write_str(m),
        }
    }
}

impl From<xipc::Error> for Problem {
    fn from(e: xipc::Error) -> Problem {
        Problem::Xdr(e)
    }
}

type Step<T> = Result<T, Problem>;

fn mismatch<T>(message: impl Into<String>) -> Step<T> {
    Err(Problem::Mismatch(message.into()))
}

/// A step on the way from the top-level value to an item.
enum Seg {
    Field(String),
    Index(usize),
    Arm,
}

/// Where in the value the walk is. Segments are pushed before descending
/// and popped only after success, so after a failure the path names the
/// item that failed.
#[derive(Default)]
struct Path(Vec<Seg>);

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the top level");
        }
        for seg in &self.0 {
            match seg {
                Seg::Field(name) => write!(f, ".{name}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
                Seg::Arm => f.write_str(".arm")?,
            }
        }
        Ok(())
    }
}

/// A failure and the path of the item it happened at.
#[derive(Debug)]
pub struct WalkError {
    pub path: String,
    pub problem: Problem,
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.path, self.problem)
    }
}

/// The declaration of a value of type `name`: a type defined in the `.x`
/// file, or a base type ("int", "unsigned hyper", "string", "opaque", ...).
pub fn root_decl(model: &Model<'_>, name: &str) -> Option<Decl> {
    let words: Vec<&str> = name.split_whitespace().collect();
    let (ty, kind) = match words.as_slice() {
        [n] if model.types.contains_key(n) => (Type::Named(n.to_string()), Kind::Plain),
        ["int"] => (Type::Int, Kind::Plain),
        ["unsigned"] | ["unsigned", "int"] => (Type::UInt, Kind::Plain),
        ["hyper"] => (Type::Hyper, Kind::Plain),
        ["unsigned", "hyper"] => (Type::UHyper, Kind::Plain),
        ["float"] => (Type::Float, Kind::Plain),
        ["double"] => (Type::Double, Kind::Plain),
        ["quadruple"] => (Type::Quadruple, Kind::Plain),
        ["bool"] => (Type::Bool, Kind::Plain),
        ["string"] => (Type::String, Kind::Var(None)),
        ["opaque"] => (Type::Opaque, Kind::Var(None)),
        _ => return None,
    };
    Some(Decl {
        name: String::new(),
        ty,
        kind,
        pos: Pos::new(Rc::from("<command line>"), 0, 0),
    })
}

/// Decodes one value of `decl` that must fill all of `bytes`.
pub fn decode(
    model: &Model<'_>,
    decl: &Decl,
    bytes: &[u8],
    limits: Limits,
) -> Result<Json, WalkError> {
    let mut r = Reader {
        model,
        dec: Decoder::with_limits(bytes, limits),
        path: Path::default(),
    };
    let value = r
        .decl(decl)
        .and_then(|v| r.dec.finish().map(|()| v).map_err(Problem::from));
    value.map_err(|problem| WalkError {
        path: r.path.to_string(),
        problem,
    })
}

/// Encodes `value` as XDR of `decl`.
pub fn encode(model: &Model<'_>, decl: &Decl, value: &Json) -> Result<Vec<u8>, WalkError> {
    let mut w = Writer {
        model,
        enc: Encoder::new(),
        path: Path::default(),
    };
    match w.decl(decl, value) {
        Ok(()) => Ok(w.enc.into_bytes()),
        Err(problem) => Err(WalkError {
            path: w.path.to_string(),
            problem,
        }),
    }
}

/// What the walkers share: the `.x` file's tables.
trait Spec<'m> {
    fn model(&self) -> &'m Model<'m>;

    fn bound(&self, v: &Value) -> Step<u32> {
        self.model()
            .bound(v)
            .map_err(|e| Problem::Mismatch(format!("the .x file: {e}")))
    }

    fn case_value(&self, v: &Value) -> Step<i64> {
        self.model()
            .value(v)
            .map_err(|e| Problem::Mismatch(format!("the .x file: {e}")))
    }

    fn named(&self, name: &str) -> Step<TypeDef<'m>> {
        match self.model().types.get(name) {
            Some(def) => Ok(*def),
            None => mismatch(format!(
                "type {name} is not defined in the .x file, so its layout is unknown"
            )),
        }
    }

    /// The arm a discriminant selects: the first case that equals it, else
    /// the default arm.
    fn arm_for<'u>(&self, u: &'u UnionDef, d: i64) -> Step<Option<&'u Decl>> {
        for arm in &u.arms {
            for case in &arm.cases {
                if self.case_value(case)? == d {
                    return Ok(Some(&arm.decl));
                }
            }
        }
        Ok(u.default.as_ref())
    }
}

/// How a union discriminant is written on the wire.
enum DiscrKind<'m> {
    Int,
    UInt,
    Bool,
    Enum(&'m EnumDef),
}

fn discr_kind<'m>(model: &Model<'m>, d: &Decl) -> Step<DiscrKind<'m>> {
    if let Some(e) = model.as_enum(&d.ty) {
        return Ok(DiscrKind::Enum(e));
    }
    match model.resolve(&d.ty) {
        Type::Int | Type::Char | Type::Short | Type::Long => Ok(DiscrKind::Int),
        Type::UInt | Type::UChar | Type::UShort | Type::ULong => Ok(DiscrKind::UInt),
        Type::Bool => Ok(DiscrKind::Bool),
        other => mismatch(format!(
            "a union discriminant of type {other:?} is not int, unsigned, bool or an enum"
        )),
    }
}

/// Bytes a JSON value is charged against the decoder's allocation limit.
const JSON_VALUE_COST: usize = std::mem::size_of::<Json>();

struct Reader<'m, 'a> {
    model: &'m Model<'m>,
    dec: Decoder<'a>,
    path: Path,
}

impl<'m> Spec<'m> for Reader<'m, '_> {
    fn model(&self) -> &'m Model<'m> {
        self.model
    }
}

impl<'m> Reader<'m, '_> {
    fn decl(&mut self, d: &Decl) -> Step<Json> {
        match &d.kind {
            Kind::Plain => self.plain(&d.ty),
            Kind::Optional => {
                if !self.dec.get_optional()? {
                    return Ok(Json::Null);
                }
                self.dec.enter()?;
                let v = self.plain(&d.ty)?;
                self.dec.leave();
                Ok(v)
            }
            Kind::Fixed(n) => {
                let n = self.bound(n)?;
                match &d.ty {
                    Type::Opaque => {
                        let bytes = self.dec.get_fixed_opaque(n as usize)?;
                        self.dec.charge(2 * bytes.len())?;
                        Ok(Json::String(to_hex(bytes)))
                    }
                    Type::String => mismatch("a string needs a <bound>, not a [size]"),
                    ty => {
                        self.check_fixed_count(n as usize, ty)?;
                        self.elements(ty, n as usize)
                    }
                }
            }
            Kind::Var(max) => {
                let max = max.as_ref().map(|v| self.bound(v)).transpose()?;
                match &d.ty {
                    Type::Opaque => {
                        let bytes = self.dec.get_opaque(max)?;
                        self.dec.charge(2 * bytes.len())?;
                        Ok(Json::String(to_hex(bytes)))
                    }
                    Type::String => {
                        let bytes = self.dec.get_string_bytes(max)?;
                        self.dec.charge(2 * bytes.len())?;
                        Ok(match std::str::from_utf8(bytes) {
                            Ok(s) => Json::String(s.to_string()),
                            Err(_) => serde_json::json!({ "hex": to_hex(bytes) }),
                        })
                    }
                    ty => {
                        let min = self.model.type_size(ty).unwrap_or(4);
                        let n = self.dec.get_count(max, min)?;
                        self.dec.charge(n.saturating_mul(JSON_VALUE_COST))?;
                        self.elements(ty, n)
                    }
                }
            }
        }
    }

    /// Checks a fixed array's size from the `.x` file against the limits and
    /// the bytes that remain before anything is allocated for it.
    fn check_fixed_count(&mut self, n: usize, ty: &Type) -> Step<()> {
        let at = self.dec.position();
        let max = self.dec.limits().max_elements;
        if n > max {
            return Err(xipc::Error::limit(
                at,
                format!("fixed array of {n} elements exceeds the element limit of {max}"),
            )
            .into());
        }
        let need = n.saturating_mul(self.model.type_size(ty).unwrap_or(4));
        let left = self.dec.remaining().len();
        if need > left {
            return Err(xipc::Error::xdr(
                at,
                format!("fixed array of {n} elements needs at least {need} bytes but only {left} remain"),
            )
            .into());
        }
        self.dec.charge(n.saturating_mul(JSON_VALUE_COST))?;
        Ok(())
    }

    fn elements(&mut self, ty: &Type, n: usize) -> Step<Json> {
        self.dec.enter()?;
        let mut items = Vec::with_capacity(n);
        for i in 0..n {
            self.path.0.push(Seg::Index(i));
            items.push(self.plain(ty)?);
            self.path.0.pop();
        }
        self.dec.leave();
        Ok(Json::Array(items))
    }

    fn plain(&mut self, ty: &Type) -> Step<Json> {
        let dec = &mut self.dec;
        Ok(match ty {
            Type::Void => Json::Null,
            Type::Int | Type::Char | Type::Short | Type::Long => dec.get_int()?.into(),
            Type::UInt | Type::UChar | Type::UShort | Type::ULong => dec.get_uint()?.into(),
            Type::Hyper => dec.get_hyper()?.into(),
            Type::UHyper => dec.get_uhyper()?.into(),
            Type::Float => float_json(f64::from(dec.get_float()?), |x| {
                format!("{}", x as f32).parse().unwrap_or(x)
            }),
            Type::Double => float_json(dec.get_double()?, |x| x),
            Type::Quadruple => Json::String(to_hex(&dec.get_quadruple()?)),
            Type::Bool => Json::Bool(dec.get_bool()?),
            Type::Opaque | Type::String => {
                return mismatch("opaque and string need a [size] or <bound>")
            }
            Type::Named(name) => match self.named(name)? {
                TypeDef::Typedef(d) => self.decl(d)?,
                TypeDef::Enum(e) => Json::String(self.enum_item(e)?.to_string()),
                TypeDef::Struct(s) => self.structure(s)?,
                TypeDef::Union(u) => self.union(u)?,
            },
        })
    }

    fn enum_item(&mut self, e: &'m EnumDef) -> Step<&'m str> {
        let at = self.dec.position();
        let v = self.dec.get_enum()?;
        match self.model.enum_value_names(e, i64::from(v)).first() {
            Some(name) => Ok(name),
            None => {
                let _ = self.dec.set_position(at);
                Err(xipc::Error::xdr(at, format!("{v} is not a value of enum {}", e.name)).into())
            }
        }
    }

    fn structure(&mut self, s: &StructDef) -> Step<Json> {
        self.dec.enter()?;
        self.dec
            .charge(s.fields.len().saturating_mul(JSON_VALUE_COST))?;
        let mut map = Map::new();
        for f in &s.fields {
            self.path.0.push(Seg::Field(f.name.clone()));
            let v = self.decl(f)?;
            self.path.0.pop();
            map.insert(f.name.clone(), v);
        }
        self.dec.leave();
        Ok(Json::Object(map))
    }

    fn union(&mut self, u: &UnionDef) -> Step<Json> {
        self.dec.enter()?;
        let at = self.dec.position();
        let (d, discriminant) = match discr_kind(self.model, &u.discr)? {
            DiscrKind::Int => {
                let v = self.dec.get_int()?;
                (i64::from(v), Json::from(v))
            }
            DiscrKind::UInt => {
                let v = self.dec.get_uint()?;
                (i64::from(v), Json::from(v))
            }
            DiscrKind::Bool => {
                let v = self.dec.get_bool()?;
                (i64::from(v), Json::Bool(v))
            }
            DiscrKind::Enum(e) => {
                let name = self.enum_item(e)?;
                let v = self.model.item_value(name).unwrap_or_default();
                (v, Json::String(name.to_string()))
            }
        };
        let Some(arm) = self.arm_for(u, d)? else {
            let _ = self.dec.set_position(at);
            return Err(xipc::Error::xdr(
                at,
                format!(
                    "discriminant {d} selects no arm of union {} (it has no default)",
                    u.name
                ),
            )
            .into());
        };
        self.path.0.push(Seg::Arm);
        let value = if arm.is_void() {
            Json::Null
        } else {
            self.decl(arm)?
        };
        self.path.0.pop();
        self.dec.leave();
        let mut map = Map::new();
        map.insert("discriminant".into(), discriminant);
        map.insert("arm".into(), value);
        Ok(Json::Object(map))
    }
}

/// A finite float as a JSON number (shortened by `short`), the others as
/// the strings "NaN", "Infinity" and "-Infinity".
fn float_json(x: f64, short: impl Fn(f64) -> f64) -> Json {
    match Number::from_f64(short(x)) {
        Some(n) => Json::Number(n),
        None if x.is_nan() => Json::String("NaN".into()),
        None if x > 0.0 => Json::String("Infinity".into()),
        None => Json::String("-Infinity".into()),
    }
}

struct Writer<'m> {
    model: &'m Model<'m>,
    enc: Encoder,
    path: Path,
}

impl<'m> Spec<'m> for Writer<'m> {
    fn model(&self) -> &'m Model<'m> {
        self.model
    }
}

/// A short description of a JSON value for error messages.
fn shown(v: &Json) -> String {
    let text = v.to_string();
    if text.len() > 60 {
        let mut end = 57;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &text[..end])
    } else {
        text
    }
}

impl Writer<'_> {
    fn decl(&mut self, d: &Decl, v: &Json) -> Step<()> {
        match &d.kind {
            Kind::Plain => self.plain(&d.ty, v),
            Kind::Optional => {
                self.enc.put_optional(!v.is_null());
                if v.is_null() {
                    return Ok(());
                }
                self.plain(&d.ty, v)
            }
            Kind::Fixed(n) => {
                let n = self.bound(n)? as usize;
                match &d.ty {
                    Type::Opaque => {
                        let bytes = hex_bytes(v)?;
                        if bytes.len() != n {
                            return mismatch(format!(
                                "expected {n} bytes of fixed opaque, got {}",
                                bytes.len()
                            ));
                        }
                        self.enc.put_fixed_opaque(&bytes);
                        Ok(())
                    }
                    Type::String => mismatch("a string needs a <bound>, not a [size]"),
                    ty => {
                        let items = array(v)?;
                        if items.len() != n {
                            return mismatch(format!(
                                "expected an array of exactly {n} elements, got {}",
                                items.len()
                            ));
                        }
                        self.elements(ty, items)
                    }
                }
            }
            Kind::Var(max) => {
                let max = max.as_ref().map(|b| self.bound(b)).transpose()?;
                let within = |len: usize, what: &str| match max {
                    Some(m) if len > m as usize => {
                        mismatch(format!("{what} of {len} exceeds its bound of {m}"))
                    }
                    _ => Ok(()),
                };
                match &d.ty {
                    Type::Opaque => {
                        let bytes = hex_bytes(v)?;
                        within(bytes.len(), "opaque length")?;
                        Ok(self.enc.put_opaque(&bytes)?)
                    }
                    Type::String => {
                        let bytes = string_bytes(v)?;
                        within(bytes.len(), "string length")?;
                        Ok(self.enc.put_opaque(&bytes)?)
                    }
                    ty => {
                        let items = array(v)?;
                        within(items.len(), "array count")?;
                        self.enc.put_len(items.len())?;
                        self.elements(ty, items)
                    }
                }
            }
        }
    }

    fn elements(&mut self, ty: &Type, items: &[Json]) -> Step<()> {
        for (i, item) in items.iter().enumerate() {
            self.path.0.push(Seg::Index(i));
            self.plain(ty, item)?;
            self.path.0.pop();
        }
        Ok(())
    }

    fn plain(&mut self, ty: &Type, v: &Json) -> Step<()> {
        match ty {
            Type::Void => {
                if !v.is_null() {
                    return mismatch(format!("expected null (void), got {}", shown(v)));
                }
            }
            Type::Int | Type::Long => self.enc.put_int(integer(v, "an int")?),
            Type::Char => self.enc.put_int(integer::<i8>(v, "a char")?.into()),
            Type::Short => self.enc.put_int(integer::<i16>(v, "a short")?.into()),
            Type::UInt | Type::ULong => self.enc.put_uint(integer(v, "an unsigned int")?),
            Type::UChar => self
                .enc
                .put_uint(integer::<u8>(v, "an unsigned char")?.into()),
            Type::UShort => self
                .enc
                .put_uint(integer::<u16>(v, "an unsigned short")?.into()),
            Type::Hyper => self.enc.put_hyper(integer(v, "a hyper")?),
            Type::UHyper => self.enc.put_uhyper(integer(v, "an unsigned hyper")?),
            Type::Float => {
                let x = float(v)?;
                if x.is_finite() && (x as f32).is_infinite() {
                    return mismatch(format!("{} is out of the range of a float", shown(v)));
                }
                self.enc.put_float(x as f32)
            }
            Type::Double => self.enc.put_double(float(v)?),
            Type::Quadruple => {
                let bytes = hex_bytes(v)?;
                let Ok(q) = <[u8; 16]>::try_from(bytes.as_slice()) else {
                    return mismatch(format!(
                        "a quadruple is 16 bytes of hex, got {}",
                        bytes.len()
                    ));
                };
                self.enc.put_quadruple(&q)
            }
            Type::Bool => match v {
                Json::Bool(b) => self.enc.put_bool(*b),
                _ => return mismatch(format!("expected true or false, got {}", shown(v))),
            },
            Type::Opaque | Type::String => {
                return mismatch("opaque and string need a [size] or <bound>")
            }
            Type::Named(name) => match self.named(name)? {
                TypeDef::Typedef(d) => self.decl(d, v)?,
                TypeDef::Enum(e) => {
                    let value = self.enum_value(e, v)?;
                    self.enc.put_enum(value)
                }
                TypeDef::Struct(s) => self.structure(s, v)?,
                TypeDef::Union(u) => self.union(u, v)?,
            },
        }
        Ok(())
    }

    /// An enum value from an item name or a number that is an item's value.
    fn enum_value(&self, e: &EnumDef, v: &Json) -> Step<i32> {
        let value = match v {
            Json::String(name) if e.items.iter().any(|(n, _, _)| n == name) => {
                self.model.item_value(name)
            }
            Json::Number(n) => n
                .as_i64()
                .filter(|&x| !self.model.enum_value_names(e, x).is_empty()),
            _ => None,
        };
        match value.and_then(|x| i32::try_from(x).ok()) {
            Some(x) => Ok(x),
            None => {
                let names: Vec<&str> = e.items.iter().map(|(n, _, _)| n.as_str()).collect();
                mismatch(format!(
                    "expected an item of enum {} ({}), got {}",
                    e.name,
                    names.join(", "),
                    shown(v)
                ))
            }
        }
    }

    fn structure(&mut self, s: &StructDef, v: &Json) -> Step<()> {
        let Json::Object(map) = v else {
            return mismatch(format!(
                "expected an object for struct {}, got {}",
                s.name,
                shown(v)
            ));
        };
        if let Some(extra) = map.keys().find(|k| !s.fields.iter().any(|f| &f.name == *k)) {
            return mismatch(format!("struct {} has no field {extra:?}", s.name));
        }
        for f in &s.fields {
            let Some(fv) = map.get(&f.name) else {
                return mismatch(format!("field {} of struct {} is missing", f.name, s.name));
            };
            self.path.0.push(Seg::Field(f.name.clone()));
            self.decl(f, fv)?;
            self.path.0.pop();
        }
        Ok(())
    }

    fn union(&mut self, u: &UnionDef, v: &Json) -> Step<()> {
        let form = || {
            format!(
                "expected {{\"discriminant\": ..., \"arm\": ...}} for union {}, got {}",
                u.name,
                shown(v)
            )
        };
        let Json::Object(map) = v else {
            return mismatch(form());
        };
        if map.keys().any(|k| k != "discriminant" && k != "arm") {
            return mismatch(form());
        }
        let Some(dv) = map.get("discriminant") else {
            return mismatch(form());
        };
        let d = match discr_kind(self.model, &u.discr)? {
            DiscrKind::Int => {
                let d: i32 = integer(dv, "an int discriminant")?;
                self.enc.put_int(d);
                i64::from(d)
            }
            DiscrKind::UInt => {
                let d: u32 = integer(dv, "an unsigned discriminant")?;
                self.enc.put_uint(d);
                i64::from(d)
            }
            DiscrKind::Bool => match dv {
                Json::Bool(b) => {
                    self.enc.put_bool(*b);
                    i64::from(*b)
                }
                _ => return mismatch(format!("expected a bool discriminant, got {}", shown(dv))),
            },
            DiscrKind::Enum(e) => {
                let d = self.enum_value(e, dv)?;
                self.enc.put_enum(d);
                i64::from(d)
            }
        };
        let Some(arm) = self.arm_for(u, d)? else {
            return mismatch(format!(
                "discriminant {} selects no arm of union {} (it has no default)",
                shown(dv),
                u.name
            ));
        };
        let value = map.get("arm").unwrap_or(&Json::Null);
        self.path.0.push(Seg::Arm);
        if arm.is_void() {
            if !value.is_null() {
                return mismatch(format!(
                    "this arm is void: expected null, got {}",
                    shown(value)
                ));
            }
        } else {
            self.decl(arm, value)?;
        }
        self.path.0.pop();
        Ok(())
    }
}

fn integer<T: TryFrom<i64> + TryFrom<u64>>(v: &Json, what: &str) -> Step<T> {
    let n = match v {
        Json::Number(n) => n
            .as_i64()
            .and_then(|x| T::try_from(x).ok())
            .or_else(|| n.as_u64().and_then(|x| T::try_from(x).ok())),
        _ => None,
    };
    n.map_or_else(
        || {
            mismatch(format!(
                "expected {what} (an integer in its range), got {}",
                shown(v)
            ))
        },
        Ok,
    )
}

fn float(v: &Json) -> Step<f64> {
    match v {
        Json::Number(n) => n
            .as_f64()
            .map_or_else(|| mismatch(format!("{} is not a number", shown(v))), Ok),
        Json::String(s) if s == "NaN" => Ok(f64::NAN),
        Json::String(s) if s == "Infinity" => Ok(f64::INFINITY),
        Json::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => mismatch(format!(
            "expected a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got {}",
            shown(v)
        )),
    }
}

fn array(v: &Json) -> Step<&[Json]> {
    match v {
        Json::Array(items) => Ok(items),
        _ => mismatch(format!("expected an array, got {}", shown(v))),
    }
}

fn hex_bytes(v: &Json) -> Step<Vec<u8>> {
    match v {
        Json::String(s) => {
            from_hex(s).map_err(|why| Problem::Mismatch(format!("expected hex: {why}")))
        }
        _ => mismatch(format!("expected a hex string, got {}", shown(v))),
    }
}

/// A string's bytes: a JSON string, or {"hex": "..."} for bytes that are not UTF-8.
fn string_bytes(v: &Json) -> Step<Vec<u8>> {
    match v {
        Json::String(s) => Ok(s.as_bytes().to_vec()),
        Json::Object(map) if map.len() == 1 && map.contains_key("hex") => hex_bytes(&map["hex"]),
        _ => mismatch(format!(
            "expected a string (or {{\"hex\": ...}}), got {}",
            shown(v)
        )),
    }
}
