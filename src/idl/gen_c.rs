//! The C generator: `BASE.h` and `BASE.c`.
//!
//! Types keep rpcgen's names and memory layout (variable arrays as
//! `{ NAME_len; NAME_val }`, strings as `char *`, unions as discriminant plus
//! `NAME_u`, `bool` as `bool_t`), so code written against rpcgen output
//! ports with little change. Per type T: `xipc_encode_T`, `xipc_decode_T`
//! and `xipc_free_T` on the xipc C API. Runs of fixed-size fields are packed
//! in a stack buffer and moved with one `xipc_encoder_put_raw` or
//! `xipc_decoder_get_fixed_opaque` call; arrays of fixed-size elements move
//! in chunks. A client function per procedure and a server skeleton (guarded
//! by `XIPC_GEN_NO_RPC`) follow the xipc RPC API.

use super::ast::*;
use super::check::{Model, Origin, TypeDef};
use super::code::Code;
use super::{CIncludes, GeneratedFile, IdlError, Options};
use std::collections::HashSet;

/// Largest run of fixed-size bytes packed in one stack buffer.
const RUN_MAX: usize = 1024;
/// Largest struct (in wire bytes) that gets the in-place decoding fast path.
const FAST_MAX: usize = 4 * RUN_MAX;

pub fn generate(
    m: &Model,
    hdr: &Spec,
    base: &str,
    options: &Options,
    includes: &CIncludes,
    stub_passes: [&[String]; 2],
) -> Result<Vec<GeneratedFile>, IdlError> {
    let g = Gen { m, public: false };
    let header = g.header(hdr, base, options, includes);
    let source = g.source(base, includes)?;
    let mut files = vec![
        GeneratedFile {
            name: format!("{base}.h"),
            contents: header,
        },
        GeneratedFile {
            name: format!("{base}.c"),
            contents: source,
        },
    ];
    if options.rpc && !g.programs().is_empty() {
        // The stubs live apart from the codecs, as rpcgen's _clnt.c and
        // _svc.c do, so a client need not define the server functions.
        let stubs = Gen { m, public: true };
        files.push(GeneratedFile {
            name: format!("{base}_clnt.c"),
            contents: stubs.stub_source(base, Side::Client, stub_passes[0])?,
        });
        files.push(GeneratedFile {
            name: format!("{base}_svc.c"),
            contents: stubs.stub_source(base, Side::Server, stub_passes[1])?,
        });
    }
    Ok(files)
}

struct Gen<'m, 'a> {
    m: &'m Model<'a>,
    /// Generating outside BASE.c: named types go through their public
    /// xipc_encode_T / xipc_decode_T / xipc_free_T.
    public: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// C spelling of a bound or size as written (a number or a constant name).
fn ctext(v: &Value) -> String {
    v.text.clone()
}

impl Gen<'_, '_> {
    fn base_type(&self, ty: &Type) -> String {
        match ty {
            Type::Void => "void".into(),
            Type::Int => "int".into(),
            Type::UInt => "unsigned int".into(),
            Type::Hyper => "int64_t".into(),
            Type::UHyper => "uint64_t".into(),
            Type::Float => "float".into(),
            Type::Double => "double".into(),
            Type::Quadruple => "xipc_quadruple".into(),
            Type::Bool => "bool_t".into(),
            Type::Char => "char".into(),
            Type::UChar => "unsigned char".into(),
            Type::Short => "short".into(),
            Type::UShort => "unsigned short".into(),
            Type::Long => "long".into(),
            Type::ULong => "unsigned long".into(),
            Type::Opaque => "char".into(),
            Type::String => "char *".into(),
            Type::Named(n) => n.clone(),
        }
    }

    /// `T name;` as rpcgen lays it out, for a struct field, union arm or typedef.
    fn decl_text(&self, d: &Decl, name: &str) -> String {
        let t = self.base_type(&d.ty);
        match &d.kind {
            Kind::Plain => format!("{t} {name}"),
            // `struct T *` also works before T's typedef (recursive types).
            Kind::Optional => match &d.ty {
                Type::Named(n) if self.is_struct_like(n) => format!("struct {n} *{name}"),
                _ => format!("{t} *{name}"),
            },
            Kind::Fixed(n) => format!("{t} {name}[{}]", ctext(n)),
            Kind::Var(_) if d.ty == Type::String => format!("char *{name}"),
            Kind::Var(_) => {
                format!("struct {{\n\tunsigned int {name}_len;\n\t{t} *{name}_val;\n}} {name}")
            }
        }
    }

    fn is_struct_like(&self, n: &str) -> bool {
        matches!(
            self.m.types.get(n),
            Some(TypeDef::Struct(_)) | Some(TypeDef::Union(_))
        )
    }

    /// The C type of a procedure argument or result.
    fn proc_type(&self, d: &Decl) -> String {
        let t = self.base_type(&d.ty);
        match &d.kind {
            Kind::Optional => format!("{t} *"),
            Kind::Var(_) => "char *".into(),
            _ => t,
        }
    }

    fn header(&self, hdr: &Spec, base: &str, options: &Options, includes: &CIncludes) -> String {
        let mut c = Code::new("\t");
        let guard = format!("XIPC_GEN_{}_H", base.to_ascii_uppercase());
        c.line(format!(
            "/* {base}.h: generated by `xipc gen --lang c`. Do not edit. */"
        ));
        c.line(format!("#ifndef {guard}\n#define {guard}\n"));
        c.line("#include <stddef.h>\n#include <stdint.h>\n#include <xipc.h>\n");
        c.line("#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
        c.line("#ifndef XIPC_GEN_COMMON_TYPES\n#define XIPC_GEN_COMMON_TYPES");
        c.line(
            "#if !defined(_TIRPC_TYPES_H) && !defined(_RPC_TYPES_H) && !defined(XIPC_HAVE_BOOL_T)",
        );
        c.line("/* rpcgen's bool: a 32-bit int, as libtirpc defines it. */");
        c.line("typedef int32_t bool_t;\n#endif");
        c.line("#ifndef TRUE\n#define TRUE 1\n#endif\n#ifndef FALSE\n#define FALSE 0\n#endif");
        c.line("/* XDR quadruple: 16 raw bytes (C has no portable binary128). */");
        c.line("typedef struct xipc_quadruple {\n\tunsigned char bytes[16];\n} xipc_quadruple;");
        c.line("#ifndef _TIRPC_XDR_H");
        c.line("/* libtirpc's XDR stream (incomplete) and routine type, for `%` lines. */");
        c.line("typedef struct __rpc_xdr XDR;\ntypedef bool_t (*xdrproc_t)(XDR *, ...);\nstruct netbuf;\n#endif");
        c.line("#ifndef _TIRPC_TYPES_H");
        c.line("/* libtirpc's names of RPC numbers, for `%` lines that use them. */");
        c.line("typedef uint32_t rpcprog_t;\ntypedef uint32_t rpcvers_t;\ntypedef uint32_t rpcproc_t;\ntypedef uint32_t rpcprot_t;\ntypedef uint32_t rpcport_t;\n#endif");
        c.line("#endif\n");
        for h in &includes.extra {
            c.line(format!("#include \"{h}\""));
        }
        self.well_known(&mut c);
        let mut defined = HashSet::new();
        for def in &hdr.defs {
            match def {
                Def::Pass(text) => c.line(includes.rewrite(text)),
                Def::Const(k) => c.line(format!("#define {} {}", k.name, c_const(k))),
                Def::Enum(e) => {
                    c.open(format!("enum {} {{", e.name));
                    let mut next = 0i64;
                    for (item, value, _) in &e.items {
                        let text = match value {
                            Some(v) => v.text.clone(),
                            None => next.to_string(),
                        };
                        next = self.m.item_value(item).unwrap_or(next) + 1;
                        c.line(format!("{item} = {text},"));
                    }
                    c.close("};");
                    c.line(format!("typedef enum {0} {0};\n", e.name));
                }
                Def::Struct(s) => {
                    c.open(format!("struct {} {{", s.name));
                    for f in &s.fields {
                        c.line(format!("{};", self.decl_text(f, &f.name)));
                    }
                    c.close("};");
                    c.line(format!("typedef struct {0} {0};\n", s.name));
                }
                Def::Union(u) => {
                    c.open(format!("struct {} {{", u.name));
                    c.line(format!("{};", self.decl_text(&u.discr, &u.discr.name)));
                    let arms: Vec<&Decl> = u
                        .arms
                        .iter()
                        .map(|a| &a.decl)
                        .chain(u.default.iter())
                        .filter(|d| !d.is_void())
                        .collect();
                    if !arms.is_empty() {
                        c.open("union {");
                        for d in arms {
                            c.line(format!("{};", self.decl_text(d, &d.name)));
                        }
                        c.close(format!("}} {}_u;", u.name));
                    }
                    c.close("};");
                    c.line(format!("typedef struct {0} {0};\n", u.name));
                }
                Def::Typedef(d) => {
                    c.line(format!("typedef {};\n", self.decl_text(d, &d.name)));
                }
                Def::Program(p) => {
                    c.line(format!("#define {} {}", p.name, p.number.text));
                    for v in &p.versions {
                        c.line(format!("#define {} {}", v.name, v.number.text));
                        for pr in &v.procs {
                            if defined.insert(pr.name.clone()) {
                                c.line(format!("#define {} {}", pr.name, pr.number.text));
                            }
                        }
                    }
                    c.blank();
                }
            }
        }
        c.line("/* Encode, decode and free. decode overwrites *value; on error it has");
        c.line(" * freed what it allocated. free releases what decode allocated. */");
        for name in self.type_names() {
            c.line(format!(
                "int xipc_encode_{name}(xipc_encoder *enc, const {name} *value);"
            ));
            c.line(format!(
                "int xipc_decode_{name}(xipc_decoder *dec, {name} *value);"
            ));
            c.line(format!("void xipc_free_{name}({name} *value);"));
        }
        if options.rpc {
            c.line("\n#ifndef XIPC_GEN_NO_RPC");
            for p in self.programs() {
                for v in &p.versions {
                    let vn = self.m.value(&v.number).unwrap_or(0);
                    c.line(format!(
                        "\n/* {} version {}: client calls. Each returns 0 or an XIPC_E* status;",
                        p.name, v.name
                    ));
                    c.line(
                        " * the result is the caller's to release with xipc_free_T. Bytes after",
                    );
                    c.line(" * the results are ignored, as libtirpc ignores them, unless");
                    c.line(format!(" * {base}_clnt.c is compiled with XIPC_GEN_STRICT defined (then XIPC_EXDR). */"));
                    for pr in &v.procs {
                        c.line(format!("{};", self.client_proto(pr, vn)));
                    }
                    c.line(format!(
                        "\n/* {} version {}: server functions the user writes. Each fills",
                        p.name, v.name
                    ));
                    c.line(" * *result (freed by the skeleton after sending) and returns 0, or");
                    c.line(
                        " * XIPC_EGARBAGE_ARGS / XIPC_ESYSTEM_ERR. Bytes after a call's arguments",
                    );
                    c.line(" * are ignored unless");
                    c.line(format!(" * {base}_svc.c is compiled with XIPC_GEN_STRICT defined (then the call gets GARBAGE_ARGS). */"));
                    for pr in &v.procs {
                        c.line(format!("{};", self.svc_proto(pr, vn)));
                    }
                    c.line(format!(
                        "/* Registers every procedure of {} version {} with `server`;",
                        p.name, v.name
                    ));
                    c.line(" * `user` is passed to each server function. */");
                    c.line(format!(
                        "int {}_{vn}_register(xipc_rpc_server *server, void *user);",
                        lower(&p.name)
                    ));
                }
            }
            c.line("#endif /* XIPC_GEN_NO_RPC */");
        }
        c.line("\n#ifdef __cplusplus\n}\n#endif\n");
        c.line(format!("#endif /* {guard} */"));
        c.finish()
    }

    /// rpcgen's names for the well-known types and constants this file
    /// uses (`typedef xipc_netobj netobj;`, `#define MAXNETNAMELEN 255`),
    /// each defined once however many generated headers a program
    /// includes. With libtirpc's headers included first, its own types
    /// (the same layout) keep their names.
    fn well_known(&self, c: &mut Code) {
        let used = self.m.used_well_known();
        if used.is_empty() {
            return;
        }
        c.line("/* Well-known ONC RPC types and constants (see xipc.h). */");
        for name in used {
            if let Some(v) = self.m.const_value(name) {
                c.line(format!(
                    "#ifndef {name}\n#define {name} {}\n#endif",
                    c_number(v)
                ));
                continue;
            }
            let (tirpc, tag) = match name {
                "netobj" => ("_TIRPC_XDR_H", None),
                "des_block" => ("_TIRPC_AUTH_H", None),
                "netbuf" => ("_TIRPC_TYPES_H", Some("netbuf")),
                "opaque_auth" => ("_TIRPC_AUTH_H", Some("opaque_auth")),
                _ => ("_TIRPC_AUTH_UNIX_H", Some("authunix_parms")),
            };
            let xipc = match self.m.resolve(&Type::Named(name.to_string())) {
                Type::Named(n) => format!("xipc_{n}"),
                _ => continue,
            };
            let guard = format!("XIPC_GEN_WK_{}", name.to_ascii_uppercase());
            c.line(format!("#ifndef {guard}\n#define {guard}"));
            match tag {
                Some(t) => c.line(format!(
                    "#ifdef {tirpc}\ntypedef struct {t} {name};\n#else\ntypedef {xipc} {name};\n#endif"
                )),
                None => c.line(format!("#ifndef {tirpc}\ntypedef {xipc} {name};\n#endif")),
            }
            c.line("#endif");
        }
        c.blank();
    }

    fn programs(&self) -> Vec<&ProgramDef> {
        self.m
            .spec
            .defs
            .iter()
            .filter_map(|d| match d {
                Def::Program(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    fn type_names(&self) -> Vec<String> {
        self.m
            .spec
            .defs
            .iter()
            .filter_map(|d| match d {
                Def::Typedef(_) | Def::Enum(_) | Def::Struct(_) | Def::Union(_) => {
                    d.name().map(String::from)
                }
                _ => None,
            })
            .collect()
    }

    fn client_proto(&self, pr: &ProcDef, vn: i64) -> String {
        let mut params = vec!["xipc_rpc_client *clnt".to_string()];
        for (i, a) in pr.args.iter().enumerate() {
            params.push(format!("{} const *arg{}", self.proc_type(a), i + 1));
        }
        if !pr.result.is_void() {
            params.push(format!("{} *result", self.proc_type(&pr.result)));
        }
        format!("int {}_{vn}({})", lower(&pr.name), params.join(", "))
    }

    fn svc_proto(&self, pr: &ProcDef, vn: i64) -> String {
        let mut params = Vec::new();
        for (i, a) in pr.args.iter().enumerate() {
            params.push(format!("{} const *arg{}", self.proc_type(a), i + 1));
        }
        if !pr.result.is_void() {
            params.push(format!("{} *result", self.proc_type(&pr.result)));
        }
        params.push("const xipc_rpc_call *call".into());
        params.push("void *user".into());
        format!("int {}_{vn}_svc({})", lower(&pr.name), params.join(", "))
    }

    // ---- source ----

    fn source(&self, base: &str, includes: &CIncludes) -> Result<String, IdlError> {
        let mut c = Code::new("\t");
        c.line(format!(
            "/* {base}.c: generated by `xipc gen --lang c`. Do not edit. */"
        ));
        c.line(format!("#include \"{base}.h\"\n"));
        c.line("#include <stdlib.h>\n#include <string.h>\n");
        for def in &self.m.spec.defs {
            if let Def::Pass(t) = def {
                c.line(includes.rewrite(t));
            }
        }
        c.raw(HELPERS);
        // The value checks of other files' enums this file's unions switch on.
        let mut foreign_enums: Vec<&str> = Vec::new();
        for def in &self.m.spec.defs {
            if let Def::Union(u) = def {
                if let Some(e) = self.m.as_enum(&u.discr.ty) {
                    if self.m.origin(&e.name).is_some() && !foreign_enums.contains(&e.name.as_str())
                    {
                        foreign_enums.push(&e.name);
                        self.enum_ok(&mut c, e);
                    }
                }
            }
        }
        // Prototypes of the internal functions (types may be recursive).
        let names = self.type_names();
        for n in &names {
            c.line(format!(
                "static int enc_{n}(xipc_encoder *e, const {n} *v);"
            ));
            c.line(format!("static int dec_{n}(xipc_decoder *d, {n} *v);"));
            c.line(format!("static void fre_{n}({n} *v);"));
            if matches!(self.m.types.get(n.as_str()), Some(TypeDef::Struct(s)) if self.m.is_list(s))
            {
                c.line(format!(
                    "static int encn_{n}(xipc_encoder *e, const {n} *v);"
                ));
                c.line(format!("static int decn_{n}(xipc_decoder *d, {n} *v);"));
                c.line(format!("static void fren_{n}({n} *v);"));
            }
            if self.fixed(&Type::Named(n.clone())).is_some() {
                c.line(format!(
                    "static XG_UNUSED unsigned char *pk_{n}(unsigned char *p, const {n} *v);"
                ));
                c.line(format!(
                    "static XG_UNUSED const unsigned char *upk_{n}(const unsigned char *p, {n} *v);"
                ));
            }
        }
        c.blank();
        for def in &self.m.spec.defs {
            match def {
                Def::Enum(e) => self.enum_fns(&mut c, e)?,
                Def::Struct(s) => self.struct_fns(&mut c, s)?,
                Def::Union(u) => self.union_fns(&mut c, u)?,
                Def::Typedef(d) => self.typedef_fns(&mut c, d)?,
                _ => {}
            }
        }
        for n in &names {
            c.line(format!(
                "int xipc_encode_{n}(xipc_encoder *enc, const {n} *value)\n{{\n\treturn enc_{n}(enc, value);\n}}\n"
            ));
            c.line(format!("int xipc_decode_{n}(xipc_decoder *dec, {n} *value)\n{{\n\tint rc;\n\tmemset(value, 0, sizeof *value);\n\trc = dec_{n}(dec, value);\n\tif (rc != 0) {{\n\t\tfre_{n}(value);\n\t\tmemset(value, 0, sizeof *value);\n\t}}\n\treturn rc;\n}}\n"));
            c.line(format!("void xipc_free_{n}({n} *value)\n{{\n\tif (value != NULL) {{\n\t\tfre_{n}(value);\n\t\tmemset(value, 0, sizeof *value);\n\t}}\n}}\n"));
        }
        Ok(c.finish())
    }

    /// BASE_clnt.c or BASE_svc.c.
    /// `passes`: the `%` lines as cpp leaves them with RPC_CLNT or RPC_SVC
    /// defined, copied after the includes as rpcgen does.
    fn stub_source(&self, base: &str, side: Side, passes: &[String]) -> Result<String, IdlError> {
        let mut c = Code::new("\t");
        let file = match side {
            Side::Client => "clnt",
            Side::Server => "svc",
        };
        c.line(format!(
            "/* {base}_{file}.c: generated by `xipc gen --lang c`. Do not edit. */"
        ));
        c.line(format!("#include \"{base}.h\"\n"));
        c.line("#include <stdlib.h>\n#include <string.h>");
        for t in passes {
            c.line(t);
        }
        c.raw(HELPERS);
        for p in self.programs() {
            for v in &p.versions {
                let vn = self.m.value(&v.number)?;
                for pr in &v.procs {
                    self.proc_codecs(&mut c, pr, vn);
                    match side {
                        Side::Client => self.client_fn(&mut c, pr, vn),
                        Side::Server => self.handler_fn(&mut c, pr, vn),
                    }
                }
                if side == Side::Server {
                    self.register_fn(&mut c, p, v, vn);
                }
            }
        }
        Ok(c.finish())
    }

    /// Wire size of a type when fixed and small enough to pack inline.
    fn fixed(&self, ty: &Type) -> Option<usize> {
        if self.has_foreign(ty, &mut HashSet::new())
            || (self.public && matches!(self.m.resolve(ty), Type::Named(_)))
        {
            return None;
        }
        self.m.type_size(ty).filter(|s| *s <= RUN_MAX)
    }

    fn fixed_decl(&self, d: &Decl) -> Option<usize> {
        if self.has_foreign(&d.ty, &mut HashSet::new())
            || (self.public && matches!(self.m.resolve(&d.ty), Type::Named(_)))
        {
            return None;
        }
        self.m.decl_size(d).filter(|s| *s <= RUN_MAX)
    }

    /// Whether a value of `ty` holds a type defined outside this file: its
    /// codec is another file's or the runtime's, and is called, not inlined.
    fn has_foreign(&self, ty: &Type, seen: &mut HashSet<String>) -> bool {
        let Type::Named(n) = ty else { return false };
        if self.m.origin(n).is_some() {
            return true;
        }
        if !seen.insert(n.clone()) {
            return false;
        }
        match self.m.types.get(n.as_str()) {
            Some(TypeDef::Typedef(d)) => self.has_foreign(&d.ty, seen),
            Some(TypeDef::Struct(s)) => s.fields.iter().any(|f| self.has_foreign(&f.ty, seen)),
            _ => false,
        }
    }

    /// The pointer to pass a foreign codec for lvalue `lv` of type `n`: the
    /// runtime's functions take xipc's own C types, which libtirpc's (when
    /// its headers came first) match in layout.
    fn foreign_arg(&self, n: &str, lv: &str, konst: bool) -> String {
        match self.m.origin(n) {
            Some(Origin::WellKnown) => {
                let c = if konst { "const " } else { "" };
                format!("({c}xipc_{n} *)({c}void *)&({lv})")
            }
            _ => format!("&({lv})"),
        }
    }

    /// True when freeing a value of this type has something to release.
    fn needs_free(&self, ty: &Type, seen: &mut HashSet<String>) -> bool {
        match ty {
            Type::String | Type::Opaque => true,
            Type::Named(n) => {
                if !seen.insert(n.clone()) {
                    return false;
                }
                match self.m.types.get(n.as_str()) {
                    None => true,
                    Some(TypeDef::Enum(_)) => false,
                    Some(TypeDef::Typedef(d)) => self.decl_needs_free(d, seen),
                    Some(TypeDef::Struct(s)) => {
                        s.fields.iter().any(|f| self.decl_needs_free(f, seen))
                    }
                    Some(TypeDef::Union(u)) => u
                        .arms
                        .iter()
                        .map(|a| &a.decl)
                        .chain(u.default.iter())
                        .any(|d| self.decl_needs_free(d, seen)),
                }
            }
            _ => false,
        }
    }

    fn decl_needs_free(&self, d: &Decl, seen: &mut HashSet<String>) -> bool {
        match d.kind {
            Kind::Var(_) | Kind::Optional => true,
            _ => self.needs_free(&d.ty, seen),
        }
    }

    fn type_needs_free(&self, ty: &Type) -> bool {
        self.needs_free(ty, &mut HashSet::new())
    }

    // ---- packing of fixed-size values into `p` ----

    fn pack_value(&self, c: &mut Code, ty: &Type, lv: &str) {
        let r = self.m.resolve(ty).clone();
        match &r {
            Type::Int | Type::Char | Type::Short | Type::Long => {
                c.line(format!("p = xg_put32(p, (uint32_t)(int32_t)({lv}));"))
            }
            Type::UInt | Type::UChar | Type::UShort | Type::ULong => {
                c.line(format!("p = xg_put32(p, (uint32_t)({lv}));"))
            }
            Type::Bool => c.line(format!("p = xg_put32(p, ({lv}) != 0);")),
            Type::Hyper | Type::UHyper => c.line(format!("p = xg_put64(p, (uint64_t)({lv}));")),
            Type::Float => c.line(format!("p = xg_putf(p, {lv});")),
            Type::Double => c.line(format!("p = xg_putd(p, {lv});")),
            Type::Quadruple => c.line(format!("memcpy(p, ({lv}).bytes, 16);\np += 16;")),
            Type::Named(n) if self.m.as_enum(&r).is_some() => {
                let _ = n;
                c.line(format!("p = xg_put32(p, (uint32_t)(int32_t)({lv}));"))
            }
            Type::Named(n) => c.line(format!("p = pk_{n}(p, &({lv}));")),
            Type::Void | Type::Opaque | Type::String => {}
        }
    }

    fn pack_decl(&self, c: &mut Code, d: &Decl, lv: &str) {
        match &d.kind {
            Kind::Plain => self.pack_value(c, &d.ty, lv),
            Kind::Fixed(n) if d.ty == Type::Opaque => {
                let n = self.m.bound(n).unwrap_or(0) as usize;
                let pad = crate::xdr::padding(n);
                c.line(format!("memcpy(p, {lv}, {n});"));
                if pad > 0 {
                    c.line(format!("memset(p + {n}, 0, {pad});"));
                }
                c.line(format!("p += {};", n + pad));
            }
            Kind::Fixed(n) => {
                let n = self.m.bound(n).unwrap_or(0);
                c.open("{");
                c.line("size_t i;");
                c.open(format!("for (i = 0; i < {n}; i++) {{"));
                self.pack_value(c, &d.ty, &format!("({lv})[i]"));
                c.close("}");
                c.close("}");
            }
            // Variable-length fields (see `packable_var`), only in encoders.
            Kind::Var(b) if d.ty == Type::String || d.ty == Type::Opaque => {
                let name = &d.name;
                let (data, len) = if d.ty == Type::String {
                    c.line(null_string_check(lv, name));
                    (format!("({lv})"), format!("strlen({lv})"))
                } else {
                    (
                        format!("({lv}).{name}_val"),
                        format!("(size_t)({lv}).{name}_len"),
                    )
                };
                c.open("{");
                c.line(format!("size_t n = {len};"));
                self.bound_check(c, b, "n");
                c.line("p = xg_put32(p, (uint32_t)n);");
                c.line(format!("if (n > 0)\n\tmemcpy(p, {data}, n);"));
                c.line("memset(p + n, 0, (4 - (n & 3)) & 3);\np += n + ((4 - (n & 3)) & 3);");
                c.close("}");
            }
            Kind::Var(b) => {
                let name = &d.name;
                c.open("{");
                c.line(format!("size_t i, n = (size_t)({lv}).{name}_len;"));
                self.bound_check(c, b, "n");
                c.line("p = xg_put32(p, (uint32_t)n);");
                c.open("for (i = 0; i < n; i++) {");
                self.pack_value(c, &d.ty, &format!("({lv}).{name}_val[i]"));
                c.close("}");
                c.close("}");
            }
            Kind::Optional => {}
        }
    }

    fn unpack_value(&self, c: &mut Code, ty: &Type, lv: &str, fail: &str) {
        let r = self.m.resolve(ty).clone();
        let t = self.base_type(ty);
        match &r {
            Type::Int | Type::Char | Type::Short | Type::Long => {
                c.line(format!("{lv} = ({t})(int32_t)xg_get32(p);\np += 4;"))
            }
            Type::UInt | Type::UChar | Type::UShort | Type::ULong => {
                c.line(format!("{lv} = ({t})xg_get32(p);\np += 4;"))
            }
            Type::Bool => c.line(format!(
                "if (xg_get32(p) > 1)\n\t{fail}\n{lv} = ({t})xg_get32(p);\np += 4;"
            )),
            Type::Hyper => c.line(format!("{lv} = ({t})xg_get64(p);\np += 8;")),
            Type::UHyper => c.line(format!("{lv} = ({t})xg_get64(p);\np += 8;")),
            Type::Float => c.line(format!("{lv} = xg_getf(p);\np += 4;")),
            Type::Double => c.line(format!("{lv} = xg_getd(p);\np += 8;")),
            Type::Quadruple => c.line(format!("memcpy(({lv}).bytes, p, 16);\np += 16;")),
            Type::Named(n) => {
                if let Some(e) = self.m.as_enum(&r) {
                    c.line(format!(
                        "if (!ok_{}((int32_t)xg_get32(p)))\n\t{fail}\n{lv} = ({t})(int32_t)xg_get32(p);\np += 4;",
                        e.name
                    ));
                } else {
                    c.line(format!(
                        "p = upk_{n}(p, &({lv}));\nif (p == NULL)\n\t{fail}"
                    ));
                }
            }
            Type::Void | Type::Opaque | Type::String => {}
        }
    }

    fn unpack_decl(&self, c: &mut Code, d: &Decl, lv: &str, fail: &str) {
        match &d.kind {
            Kind::Plain => self.unpack_value(c, &d.ty, lv, fail),
            Kind::Fixed(n) if d.ty == Type::Opaque => {
                let n = self.m.bound(n).unwrap_or(0) as usize;
                let pad = crate::xdr::padding(n);
                c.line(format!("memcpy({lv}, p, {n});"));
                if pad > 0 {
                    c.line(format!("if (!xg_zero(p + {n}, {pad}))\n\t{fail}"));
                }
                c.line(format!("p += {};", n + pad));
            }
            Kind::Fixed(n) => {
                let n = self.m.bound(n).unwrap_or(0);
                c.open("{");
                c.line("size_t i;");
                c.open(format!("for (i = 0; i < {n}; i++) {{"));
                self.unpack_value(c, &d.ty, &format!("({lv})[i]"), fail);
                c.close("}");
                c.close("}");
            }
            _ => {}
        }
    }

    // ---- encoding of any declaration ----

    /// Statements encoding one value of `ty` (not an array).
    fn enc_value(&self, c: &mut Code, ty: &Type, lv: &str) {
        if let Some(size) = self.fixed(ty) {
            c.open("{");
            c.line(format!("unsigned char b[{size}];\nunsigned char *p = b;"));
            self.pack_value(c, ty, lv);
            c.line(format!("XG_TRY(xipc_encoder_put_raw(e, b, {size}));"));
            c.close("}");
            return;
        }
        match self.m.resolve(ty) {
            Type::Named(n) if self.m.origin(n).is_some() => c.line(format!(
                "XG_TRY(xipc_encode_{n}(e, {}));",
                self.foreign_arg(n, lv, true)
            )),
            Type::Named(n) if self.public => {
                c.line(format!("XG_TRY(xipc_encode_{n}(e, &({lv})));"))
            }
            Type::Named(n) => c.line(format!("XG_TRY(enc_{n}(e, &({lv})));")),
            _ => c.line(format!("XG_TRY(enc_{}(e, &({lv})));", self.base_type(ty))),
        }
    }

    /// Statements encoding `count` elements `elem(i)` of type `ty`.
    fn enc_elements(&self, c: &mut Code, ty: &Type, count: &str, elem: &str) {
        if let Some(size) = self.fixed(ty) {
            let cap = RUN_MAX.max(size);
            c.open("{");
            c.line(format!(
                "unsigned char b[{cap}];\nunsigned char *p = b;\nsize_t i;"
            ));
            c.open(format!("for (i = 0; i < (size_t)({count}); i++) {{"));
            c.open(format!("if ((size_t)(b + sizeof b - p) < {size}) {{"));
            c.line("XG_TRY(xipc_encoder_put_raw(e, b, (size_t)(p - b)));\np = b;");
            c.close("}");
            self.pack_value(c, ty, elem);
            c.close("}");
            c.line("XG_TRY(xipc_encoder_put_raw(e, b, (size_t)(p - b)));");
            c.close("}");
        } else {
            c.open("{");
            c.line("size_t i;");
            c.open(format!("for (i = 0; i < (size_t)({count}); i++) {{"));
            self.enc_value(c, ty, elem);
            c.close("}");
            c.close("}");
        }
    }

    fn bound_check(&self, c: &mut Code, bound: &Option<Value>, len: &str) {
        if let Some(b) = bound {
            c.line(format!(
                "if ((uint64_t)({len}) > (uint64_t)({}))\n\treturn XIPC_ELIMIT;",
                ctext(b)
            ));
        }
    }

    fn max_arg(&self, bound: &Option<Value>) -> String {
        match bound {
            Some(b) => format!("(uint32_t)({})", ctext(b)),
            None => "UINT32_MAX".into(),
        }
    }

    /// Statements encoding declaration `d` whose C lvalue is `lv`.
    fn enc_decl(&self, c: &mut Code, d: &Decl, lv: &str) {
        if d.is_void() {
            return;
        }
        if let Some(size) = self.fixed_decl(d) {
            c.open("{");
            c.line(format!("unsigned char b[{size}];\nunsigned char *p = b;"));
            self.pack_decl(c, d, lv);
            c.line(format!("XG_TRY(xipc_encoder_put_raw(e, b, {size}));"));
            c.close("}");
            return;
        }
        let name = &d.name;
        match (&d.kind, &d.ty) {
            (Kind::Plain, ty) => self.enc_value(c, ty, lv),
            (Kind::Optional, ty) => {
                c.line(format!("XG_TRY(xg_put_flag(e, ({lv}) != NULL));"));
                c.open(format!("if (({lv}) != NULL) {{"));
                self.enc_value(c, ty, &format!("*({lv})"));
                c.close("}");
            }
            (Kind::Fixed(n), Type::Opaque) => {
                c.line(format!(
                    "XG_TRY(xipc_encoder_put_fixed_opaque(e, (const uint8_t *)({lv}), {}));",
                    ctext(n)
                ));
            }
            (Kind::Fixed(n), ty) => self.enc_elements(c, ty, &ctext(n), &format!("({lv})[i]")),
            (Kind::Var(b), Type::String) => {
                c.open("{");
                c.line(null_string_check(lv, name));
                c.line(format!("const char *s = ({lv});\nsize_t n = strlen(s);"));
                self.bound_check(c, b, "n");
                c.line("XG_TRY(xipc_encoder_put_string_n(e, s, n));");
                c.close("}");
            }
            (Kind::Var(b), Type::Opaque) => {
                self.bound_check(c, b, &format!("({lv}).{name}_len"));
                c.line(format!(
                    "XG_TRY(xipc_encoder_put_opaque(e, ({lv}).{name}_len ? (const uint8_t *)({lv}).{name}_val : (const uint8_t *)\"\", ({lv}).{name}_len));"
                ));
            }
            (Kind::Var(b), ty) => {
                let len = format!("({lv}).{name}_len");
                self.bound_check(c, b, &len);
                c.line(format!("XG_TRY(xipc_encoder_put_count(e, {len}));"));
                self.enc_elements(c, ty, &len, &format!("({lv}).{name}_val[i]"));
            }
        }
    }

    // ---- decoding (into zeroed memory) ----

    fn dec_value(&self, c: &mut Code, ty: &Type, lv: &str) {
        if let Some(size) = self.fixed(ty) {
            c.open("{");
            c.line(format!(
                "unsigned char b[{size}];\nconst unsigned char *p = b;"
            ));
            c.line(format!(
                "XG_TRY(xipc_decoder_get_fixed_opaque(d, b, {size}));"
            ));
            self.unpack_value(c, ty, lv, "return XIPC_EXDR;");
            c.line("(void)p;");
            c.close("}");
            return;
        }
        match self.m.resolve(ty) {
            Type::Named(n) if self.m.origin(n).is_some() => c.line(format!(
                "XG_TRY(xipc_decode_{n}(d, {}));",
                self.foreign_arg(n, lv, false)
            )),
            Type::Named(n) if self.public => {
                c.line(format!("XG_TRY(xipc_decode_{n}(d, &({lv})));"))
            }
            Type::Named(n) => c.line(format!("XG_TRY(dec_{n}(d, &({lv})));")),
            _ => c.line(format!("XG_TRY(dec_{}(d, &({lv})));", self.base_type(ty))),
        }
    }

    fn dec_elements(&self, c: &mut Code, ty: &Type, count: &str, elem: &str) {
        if let Some(size) = self.fixed(ty) {
            let per = (RUN_MAX.max(size) / size).max(1);
            c.open("{");
            c.line(format!("unsigned char b[{}];\nsize_t i = 0;", per * size));
            c.open(format!("while (i < (size_t)({count})) {{"));
            c.line(format!(
                "size_t k = (size_t)({count}) - i < {per} ? (size_t)({count}) - i : {per};\nconst unsigned char *p = b;"
            ));
            c.line(format!(
                "XG_TRY(xipc_decoder_get_fixed_opaque(d, b, k * {size}));"
            ));
            c.open("for (; k > 0; k--, i++) {");
            self.unpack_value(c, ty, elem, "return XIPC_EXDR;");
            c.close("}");
            c.close("}");
            c.close("}");
        } else {
            c.open("{");
            c.line("size_t i;");
            c.open(format!("for (i = 0; i < (size_t)({count}); i++) {{"));
            self.dec_value(c, ty, elem);
            c.close("}");
            c.close("}");
        }
    }

    fn dec_decl(&self, c: &mut Code, d: &Decl, lv: &str) {
        if d.is_void() {
            return;
        }
        if let Some(size) = self.fixed_decl(d) {
            c.open("{");
            c.line(format!(
                "unsigned char b[{size}];\nconst unsigned char *p = b;"
            ));
            c.line(format!(
                "XG_TRY(xipc_decoder_get_fixed_opaque(d, b, {size}));"
            ));
            self.unpack_decl(c, d, lv, "return XIPC_EXDR;");
            c.line("(void)p;");
            c.close("}");
            return;
        }
        let name = &d.name;
        match (&d.kind, &d.ty) {
            (Kind::Plain, ty) => self.dec_value(c, ty, lv),
            (Kind::Optional, ty) => {
                c.open("{");
                c.line("int present;");
                c.line("XG_TRY(xg_get_flag(d, &present));");
                c.open("if (present) {");
                // Only optional data can recurse: it is what the depth limit counts.
                c.line("XG_TRY(xipc_decoder_enter(d));");
                c.line(format!("XG_TRY(xipc_decoder_charge(d, sizeof *({lv})));"));
                c.line(format!("({lv}) = calloc(1, sizeof *({lv}));\nif (({lv}) == NULL)\n\treturn XIPC_EINTERNAL;"));
                self.dec_value(c, ty, &format!("*({lv})"));
                c.line("XG_TRY(xipc_decoder_leave(d));");
                c.close("}");
                c.close("}");
            }
            (Kind::Fixed(n), Type::Opaque) => {
                c.line(format!(
                    "XG_TRY(xipc_decoder_get_fixed_opaque(d, (uint8_t *)({lv}), {}));",
                    ctext(n)
                ));
            }
            (Kind::Fixed(n), ty) => self.dec_elements(c, ty, &ctext(n), &format!("({lv})[i]")),
            (Kind::Var(b), Type::String) => {
                c.open("{");
                c.line("const char *s;\nsize_t n;");
                c.line(format!(
                    "XG_TRY(xipc_decoder_get_string_ref(d, {}, &s, &n));",
                    self.max_arg(b)
                ));
                c.line("XG_TRY(xipc_decoder_charge(d, n + 1));");
                c.line(format!(
                    "({lv}) = malloc(n + 1);\nif (({lv}) == NULL)\n\treturn XIPC_EINTERNAL;"
                ));
                c.line(format!("memcpy(({lv}), s, n);\n({lv})[n] = '\\0';"));
                c.close("}");
            }
            (Kind::Var(b), Type::Opaque) => {
                c.open("{");
                c.line("const uint8_t *s;\nsize_t n;");
                c.line(format!(
                    "XG_TRY(xipc_decoder_get_opaque_ref(d, {}, &s, &n));",
                    self.max_arg(b)
                ));
                c.open("if (n > 0) {");
                c.line("XG_TRY(xipc_decoder_charge(d, n));");
                c.line(format!("({lv}).{name}_val = malloc(n);\nif (({lv}).{name}_val == NULL)\n\treturn XIPC_EINTERNAL;"));
                c.line(format!(
                    "memcpy(({lv}).{name}_val, s, n);\n({lv}).{name}_len = (unsigned int)n;"
                ));
                c.close("}");
                c.close("}");
            }
            (Kind::Var(b), ty) => {
                c.open("{");
                c.line("size_t n;");
                let min = self.m.type_size(ty).unwrap_or(4).max(4);
                c.line(format!(
                    "XG_TRY(xipc_decoder_get_count(d, {}, {min}, &n));",
                    self.max_arg(b)
                ));
                c.open("if (n > 0) {");
                c.line(format!(
                    "XG_TRY(xipc_decoder_charge(d, n * sizeof *({lv}).{name}_val));"
                ));
                c.line(format!("({lv}).{name}_val = calloc(n, sizeof *({lv}).{name}_val);\nif (({lv}).{name}_val == NULL)\n\treturn XIPC_EINTERNAL;"));
                c.line(format!("({lv}).{name}_len = (unsigned int)n;"));
                self.dec_elements(c, ty, "n", &format!("({lv}).{name}_val[i]"));
                c.close("}");
                c.close("}");
            }
        }
    }

    // ---- freeing ----

    fn free_value(&self, c: &mut Code, ty: &Type, lv: &str) {
        if !self.type_needs_free(ty) {
            return;
        }
        match self.m.resolve(ty) {
            Type::Named(n) if self.m.origin(n).is_some() => c.line(format!(
                "xipc_free_{n}({});",
                self.foreign_arg(n, lv, false)
            )),
            Type::Named(n) if self.public => c.line(format!("xipc_free_{n}(&({lv}));")),
            Type::Named(n) => c.line(format!("fre_{n}(&({lv}));")),
            _ => {}
        }
    }

    fn free_decl(&self, c: &mut Code, d: &Decl, lv: &str) {
        if d.is_void() || !self.decl_needs_free(d, &mut HashSet::new()) {
            return;
        }
        let name = &d.name;
        match (&d.kind, &d.ty) {
            (Kind::Plain, ty) => self.free_value(c, ty, lv),
            (Kind::Optional, ty) => {
                c.open(format!("if (({lv}) != NULL) {{"));
                self.free_value(c, ty, &format!("*({lv})"));
                c.line(format!("free({lv});\n({lv}) = NULL;"));
                c.close("}");
            }
            (Kind::Fixed(n), ty) => {
                c.open("{");
                c.line("size_t i;");
                c.open(format!("for (i = 0; i < (size_t)({}); i++) {{", ctext(n)));
                self.free_value(c, ty, &format!("({lv})[i]"));
                c.close("}");
                c.close("}");
            }
            (Kind::Var(_), Type::String) => c.line(format!("free({lv});\n({lv}) = NULL;")),
            (Kind::Var(_), ty) => {
                if self.type_needs_free(ty) {
                    c.open(format!("if (({lv}).{name}_val != NULL) {{"));
                    c.line("size_t i;");
                    c.open(format!("for (i = 0; i < ({lv}).{name}_len; i++) {{"));
                    self.free_value(c, ty, &format!("({lv}).{name}_val[i]"));
                    c.close("}");
                    c.close("}");
                }
                c.line(format!(
                    "free(({lv}).{name}_val);\n({lv}).{name}_val = NULL;\n({lv}).{name}_len = 0;"
                ));
            }
        }
    }

    // ---- per-type functions ----

    fn fn_start(&self, c: &mut Code, sig: &str) {
        c.line(sig);
        c.open("{");
    }

    fn fixed_fns(&self, c: &mut Code, name: &str, body: &dyn Fn(&mut Code, bool)) {
        if self.fixed(&Type::Named(name.to_string())).is_none() {
            return;
        }
        c.line(format!(
            "static unsigned char *pk_{name}(unsigned char *p, const {name} *v)"
        ));
        c.open("{");
        body(c, true);
        c.line("return p;");
        c.close("}\n");
        c.line(format!(
            "static const unsigned char *upk_{name}(const unsigned char *p, {name} *v)"
        ));
        c.open("{");
        body(c, false);
        c.line("return p;");
        c.close("}\n");
    }

    /// `ok_E(v)`: whether `v` is a value of enum `E`.
    fn enum_ok(&self, c: &mut Code, e: &EnumDef) {
        let mut values: Vec<i64> = e
            .items
            .iter()
            .filter_map(|(i, _, _)| self.m.item_value(i))
            .collect();
        values.sort_unstable();
        values.dedup();
        c.line(format!("static int ok_{}(int32_t v)\n{{", e.name));
        c.line("\tswitch (v) {");
        for v in values {
            c.line(format!("\tcase {v}:"));
        }
        c.line("\t\treturn 1;\n\tdefault:\n\t\treturn 0;\n\t}\n}\n");
    }

    fn enum_fns(&self, c: &mut Code, e: &EnumDef) -> Result<(), IdlError> {
        let name = &e.name;
        self.enum_ok(c, e);
        self.fixed_fns(c, name, &|c, pack| {
            if pack {
                c.line("p = xg_put32(p, (uint32_t)(int32_t)*v);");
            } else {
                c.line(format!(
                    "if (!ok_{name}((int32_t)xg_get32(p)))\n\treturn NULL;\n*v = ({name})(int32_t)xg_get32(p);\np += 4;"
                ));
            }
        });
        let ty = Type::Named(name.clone());
        self.fn_start(
            c,
            &format!("static int enc_{name}(xipc_encoder *e, const {name} *v)"),
        );
        c.line("int rc = 0;");
        self.enc_value(c, &ty, "*v");
        c.line("return rc;");
        c.close("}\n");
        self.fn_start(
            c,
            &format!("static int dec_{name}(xipc_decoder *d, {name} *v)"),
        );
        c.line("int rc = 0;");
        self.dec_value(c, &ty, "*v");
        c.line("return rc;");
        c.close("}\n");
        c.line(format!(
            "static void fre_{name}({name} *v)\n{{\n\t(void)v;\n}}\n"
        ));
        Ok(())
    }

    fn struct_fns(&self, c: &mut Code, s: &StructDef) -> Result<(), IdlError> {
        let name = &s.name;
        self.fixed_fns(c, name, &|c, pack| {
            for f in &s.fields {
                let lv = format!("v->{}", f.name);
                if pack {
                    self.pack_decl(c, f, &lv);
                } else {
                    self.unpack_decl(c, f, &lv, "return NULL;");
                }
            }
        });
        if self.m.is_list(s) {
            let (link, body) = s.fields.split_last().expect("a list has its link");
            self.struct_body_fns(c, name, body, "n");
            self.list_fns(c, name, &link.name);
        } else {
            self.struct_body_fns(c, name, &s.fields, "");
        }
        Ok(())
    }

    /// `enc{sfx}_NAME`, `dec{sfx}_NAME` and `fre{sfx}_NAME` over `fields`
    /// of struct NAME: the struct's codec, or (with `sfx` "n") that of one
    /// node of a list without its link.
    fn struct_body_fns(&self, c: &mut Code, name: &str, fields: &[Decl], sfx: &str) {
        // Encoding: runs of fixed-size fields go out through one buffer.
        self.fn_start(
            c,
            &format!("static int enc{sfx}_{name}(xipc_encoder *e, const {name} *v)"),
        );
        c.line("int rc = 0;");
        for run in self.runs(fields, true) {
            match run {
                Run::Fixed(fields, size) => {
                    c.open("{");
                    c.line(format!("unsigned char b[{size}];\nunsigned char *p = b;"));
                    for f in fields {
                        self.pack_decl(c, f, &format!("v->{}", f.name));
                    }
                    c.line("XG_TRY(xipc_encoder_put_raw(e, b, (size_t)(p - b)));");
                    c.close("}");
                }
                Run::One(f) => self.enc_decl(c, f, &format!("v->{}", f.name)),
            }
        }
        c.line("return rc;");
        c.close("}\n");
        self.fn_start(
            c,
            &format!("static int dec{sfx}_{name}(xipc_decoder *d, {name} *v)"),
        );
        c.line("int rc = 0;");
        self.dec_fast_path(c, fields, &format!("fre{sfx}_{name}"));
        let runs = self.runs(fields, false);
        let mut fused = false;
        for (k, run) in runs.iter().enumerate() {
            match run {
                Run::Fixed(fields, size) => {
                    // The count of a short bounded field that follows is
                    // read with the run.
                    let next = match runs.get(k + 1) {
                        Some(Run::One(d)) if self.packable_var(d).is_some() => Some(*d),
                        _ => None,
                    };
                    let total = size + if next.is_some() { 4 } else { 0 };
                    if next.is_some() {
                        c.line("{\n\tsize_t n;");
                        c.indent();
                    }
                    c.open("{");
                    c.line(format!(
                        "unsigned char b[{total}];\nconst unsigned char *p = b;"
                    ));
                    c.line(format!(
                        "XG_TRY(xipc_decoder_get_fixed_opaque(d, b, {total}));"
                    ));
                    for f in fields {
                        self.unpack_decl(c, f, &format!("v->{}", f.name), "return XIPC_EXDR;");
                    }
                    if next.is_some() {
                        c.line("n = xg_get32(p);\np += 4;");
                        fused = true;
                    }
                    c.line("(void)p;");
                    c.close("}");
                }
                Run::One(f) if fused => {
                    fused = false;
                    self.dec_var_counted(c, f, &format!("v->{}", f.name));
                    c.dedent();
                    c.line("}");
                }
                Run::One(f) => self.dec_decl(c, f, &format!("v->{}", f.name)),
            }
        }
        c.line("return rc;");
        c.close("}\n");
        self.fn_start(c, &format!("static void fre{sfx}_{name}({name} *v)"));
        c.line("(void)v;");
        for f in fields {
            self.free_decl(c, f, &format!("v->{}", f.name));
        }
        c.close("}\n");
    }

    /// The codec and free function of a linked list (see `Model::is_list`)
    /// over its node functions: loops along the chain instead of one nested
    /// call per node, so its length is bounded by the input and the
    /// decoder's allocation limit (each node is charged), and the whole
    /// chain counts as one nesting level. The bytes are those of the
    /// recursive definition.
    fn list_fns(&self, c: &mut Code, name: &str, link: &str) {
        self.fn_start(
            c,
            &format!("static int enc_{name}(xipc_encoder *e, const {name} *v)"),
        );
        c.line("int rc = 0;");
        c.open("for (;;) {");
        c.line(format!("XG_TRY(encn_{name}(e, v));"));
        c.line(format!("XG_TRY(xg_put_flag(e, v->{link} != NULL));"));
        c.line(format!(
            "if (v->{link} == NULL)\n\treturn rc;\nv = v->{link};"
        ));
        c.close("}");
        c.close("}\n");
        self.fn_start(
            c,
            &format!("static int dec_{name}(xipc_decoder *d, {name} *v)"),
        );
        c.line("int rc = 0;\nint entered = 0;");
        c.open("for (;;) {");
        c.line("int present;");
        c.line(format!("XG_TRY(decn_{name}(d, v));"));
        c.line("XG_TRY(xg_get_flag(d, &present));");
        c.line("if (!present)\n\tbreak;");
        c.open("if (!entered) {");
        c.line("XG_TRY(xipc_decoder_enter(d));\nentered = 1;");
        c.close("}");
        c.line(format!(
            "XG_TRY(xipc_decoder_charge(d, sizeof *v->{link}));"
        ));
        c.line(format!(
            "v->{link} = calloc(1, sizeof *v->{link});\nif (v->{link} == NULL)\n\treturn XIPC_EINTERNAL;\nv = v->{link};"
        ));
        c.close("}");
        c.line("if (entered)\n\tXG_TRY(xipc_decoder_leave(d));");
        c.line("return rc;");
        c.close("}\n");
        self.fn_start(c, &format!("static void fre_{name}({name} *v)"));
        c.line(format!("{name} *n = v->{link};"));
        c.line(format!("fren_{name}(v);\nv->{link} = NULL;"));
        c.open("while (n != NULL) {");
        c.line(format!("{name} *next = n->{link};"));
        c.line(format!("fren_{name}(n);\nfree(n);\nn = next;"));
        c.close("}");
        c.close("}\n");
    }

    /// For a struct of fixed-size fields and short bounded variable-length
    /// ones (at least one): when the input holds every byte the struct could
    /// take, its fields are parsed in place (`xipc_decoder_peek`, then one
    /// `xipc_decoder_advance`) instead of one library call per run. Anything
    /// unusual (a count over its bound, non-zero padding, a bad enum or bool)
    /// frees what was built and falls through to the checked path, which
    /// reports it. Like the fused fields of the checked path, these short
    /// allocations (each at most RUN_MAX bytes) are not charged.
    fn dec_fast_path(&self, c: &mut Code, fields: &[Decl], free: &str) {
        let mut max = 0;
        let mut has_var = false;
        for f in fields {
            if let Some(size) = self.fixed_decl(f) {
                max += size;
            } else if let Some(size) = self.packable_var(f) {
                max += size;
                has_var = true;
            } else {
                return;
            }
        }
        if !has_var || max > FAST_MAX {
            return;
        }
        c.open("{");
        c.line("const unsigned char *p0, *p;\nsize_t avail;");
        c.open(format!(
            "if (xipc_decoder_peek(d, &p0, &avail) == 0 && avail >= {max}) {{"
        ));
        c.line("p = p0;");
        for f in fields {
            let lv = format!("v->{}", f.name);
            if self.fixed_decl(f).is_some() {
                self.unpack_decl(c, f, &lv, "goto slow;");
                continue;
            }
            let Kind::Var(Some(b)) = &f.kind else {
                unreachable!("packable_var is bounded")
            };
            let fname = &f.name;
            c.open("{");
            c.line("size_t n = xg_get32(p);\np += 4;");
            c.line(format!(
                "if ((uint64_t)n > (uint64_t)({}))\n\tgoto slow;",
                ctext(b)
            ));
            match &f.ty {
                Type::String => {
                    c.line("if (!xg_zero(p + n, (4 - (n & 3)) & 3))\n\tgoto slow;");
                    c.line(format!(
                        "({lv}) = malloc(n + 1);\nif (({lv}) == NULL)\n\treturn XIPC_EINTERNAL;"
                    ));
                    c.line(format!("memcpy(({lv}), p, n);\n({lv})[n] = '\\0';"));
                    c.line("p += n + ((4 - (n & 3)) & 3);");
                }
                Type::Opaque => {
                    c.line("if (!xg_zero(p + n, (4 - (n & 3)) & 3))\n\tgoto slow;");
                    c.open("if (n > 0) {");
                    c.line(format!("({lv}).{fname}_val = malloc(n);\nif (({lv}).{fname}_val == NULL)\n\treturn XIPC_EINTERNAL;"));
                    c.line(format!(
                        "memcpy(({lv}).{fname}_val, p, n);\n({lv}).{fname}_len = (unsigned int)n;"
                    ));
                    c.close("}");
                    c.line("p += n + ((4 - (n & 3)) & 3);");
                }
                ty => {
                    c.open("if (n > 0) {");
                    c.line("size_t i;");
                    c.line(format!("({lv}).{fname}_val = calloc(n, sizeof *({lv}).{fname}_val);\nif (({lv}).{fname}_val == NULL)\n\treturn XIPC_EINTERNAL;"));
                    c.line(format!("({lv}).{fname}_len = (unsigned int)n;"));
                    c.open("for (i = 0; i < n; i++) {");
                    self.unpack_value(c, ty, &format!("({lv}).{fname}_val[i]"), "goto slow;");
                    c.close("}");
                    c.close("}");
                }
            }
            c.close("}");
        }
        c.line("return xipc_decoder_advance(d, (size_t)(p - p0));");
        c.line("slow:");
        c.line(format!("{free}(v);\nmemset(v, 0, sizeof *v);"));
        c.close("}");
        c.close("}");
    }

    /// Groups fields into runs packed in one buffer (sized for the largest
    /// value). When encoding, short bounded variable-length fields (strings,
    /// opaque data, arrays of numbers) join the runs too.
    fn runs<'d>(&self, fields: &'d [Decl], encode: bool) -> Vec<Run<'d>> {
        let mut out = Vec::new();
        let mut cur: Vec<&Decl> = Vec::new();
        let mut size = 0;
        for f in fields {
            let packable =
                self.fixed_decl(f)
                    .or_else(|| if encode { self.packable_var(f) } else { None });
            match packable {
                Some(s) if size + s <= RUN_MAX => {
                    cur.push(f);
                    size += s;
                }
                Some(s) => {
                    if !cur.is_empty() {
                        out.push(Run::Fixed(std::mem::take(&mut cur), size));
                    }
                    cur.push(f);
                    size = s;
                }
                None => {
                    if !cur.is_empty() {
                        out.push(Run::Fixed(std::mem::take(&mut cur), size));
                        size = 0;
                    }
                    out.push(Run::One(f));
                }
            }
        }
        if !cur.is_empty() {
            out.push(Run::Fixed(cur, size));
        }
        out
    }

    /// Largest wire size of a bounded variable-length declaration that can
    /// be packed in a stack buffer.
    fn packable_var(&self, d: &Decl) -> Option<usize> {
        let Kind::Var(Some(b)) = &d.kind else {
            return None;
        };
        let b = self.m.bound(b).ok()? as usize;
        let max = match &d.ty {
            Type::String | Type::Opaque => 4 + crate::xdr::padded_len(b),
            ty => 4 + b.checked_mul(self.fixed(ty)?)?,
        };
        (max <= RUN_MAX).then_some(max)
    }

    /// Decodes a short bounded variable-length field whose count `n` has
    /// been read. Its allocation (at most RUN_MAX bytes, and never more than
    /// the input holds) is not charged against the decoder's limit.
    fn dec_var_counted(&self, c: &mut Code, d: &Decl, lv: &str) {
        let Kind::Var(b) = &d.kind else { return };
        let name = &d.name;
        if let Some(b) = b {
            c.line(format!(
                "if ((uint64_t)n > (uint64_t)({}))\n\treturn XIPC_ELIMIT;",
                ctext(b)
            ));
        }
        match &d.ty {
            Type::String => {
                c.line(format!(
                    "({lv}) = malloc(n + 1);\nif (({lv}) == NULL)\n\treturn XIPC_EINTERNAL;"
                ));
                c.line(format!("({lv})[n] = '\\0';"));
                c.line(format!(
                    "if (n > 0)\n\tXG_TRY(xipc_decoder_get_fixed_opaque(d, (uint8_t *)({lv}), n));"
                ));
            }
            Type::Opaque => {
                c.open("if (n > 0) {");
                c.line(format!("({lv}).{name}_val = malloc(n);\nif (({lv}).{name}_val == NULL)\n\treturn XIPC_EINTERNAL;"));
                c.line(format!("({lv}).{name}_len = (unsigned int)n;"));
                c.line(format!(
                    "XG_TRY(xipc_decoder_get_fixed_opaque(d, (uint8_t *)({lv}).{name}_val, n));"
                ));
                c.close("}");
            }
            ty => {
                c.open("if (n > 0) {");
                c.line(format!("({lv}).{name}_val = calloc(n, sizeof *({lv}).{name}_val);\nif (({lv}).{name}_val == NULL)\n\treturn XIPC_EINTERNAL;"));
                c.line(format!("({lv}).{name}_len = (unsigned int)n;"));
                self.dec_elements(c, ty, "n", &format!("({lv}).{name}_val[i]"));
                c.close("}");
            }
        }
    }

    fn discr_check(&self, u: &UnionDef) -> String {
        if let Some(e) = self.m.as_enum(&u.discr.ty) {
            format!("!ok_{}(dv)", e.name)
        } else if *self.m.resolve(&u.discr.ty) == Type::Bool {
            "(uint32_t)dv > 1".into()
        } else {
            "0".into()
        }
    }

    fn union_fns(&self, c: &mut Code, u: &UnionDef) -> Result<(), IdlError> {
        let name = &u.name;
        let dn = &u.discr.name;
        let arm_lv = |d: &Decl| format!("v->{name}_u.{}", d.name);
        self.fn_start(
            c,
            &format!("static int enc_{name}(xipc_encoder *e, const {name} *v)"),
        );
        c.line("int rc = 0;");
        self.enc_decl(c, &u.discr, &format!("v->{dn}"));
        c.open(format!("switch (v->{dn}) {{"));
        for arm in &u.arms {
            for v in &arm.cases {
                c.line(format!("case {}:", v.text));
            }
            c.indent();
            self.enc_decl(c, &arm.decl, &arm_lv(&arm.decl));
            c.line("break;");
            c.dedent();
        }
        c.line("default:");
        c.indent();
        match &u.default {
            Some(d) => {
                self.enc_decl(c, d, &arm_lv(d));
                c.line("break;");
            }
            None => c.line("return XIPC_EINVAL;"),
        }
        c.dedent();
        c.close("}");
        c.line("return rc;");
        c.close("}\n");

        self.fn_start(
            c,
            &format!("static int dec_{name}(xipc_decoder *d, {name} *v)"),
        );
        c.line("int rc = 0;");
        c.open("{");
        c.line("unsigned char b[4];\nint32_t dv;");
        c.line("XG_TRY(xipc_decoder_get_fixed_opaque(d, b, 4));");
        c.line("dv = (int32_t)xg_get32(b);");
        c.line(format!("if ({})\n\treturn XIPC_EXDR;", self.discr_check(u)));
        c.line(format!("v->{dn} = ({})dv;", self.base_type(&u.discr.ty)));
        c.close("}");
        c.open(format!("switch (v->{dn}) {{"));
        for arm in &u.arms {
            for v in &arm.cases {
                c.line(format!("case {}:", v.text));
            }
            c.indent();
            self.dec_decl(c, &arm.decl, &arm_lv(&arm.decl));
            c.line("break;");
            c.dedent();
        }
        c.line("default:");
        c.indent();
        match &u.default {
            Some(d) => {
                self.dec_decl(c, d, &arm_lv(d));
                c.line("break;");
            }
            None => c.line("return XIPC_EXDR;"),
        }
        c.dedent();
        c.close("}");
        c.line("return rc;");
        c.close("}\n");

        self.fn_start(c, &format!("static void fre_{name}({name} *v)"));
        c.line("(void)v;");
        let freeing: Vec<&Arm> = u
            .arms
            .iter()
            .filter(|a| self.decl_needs_free(&a.decl, &mut HashSet::new()) && !a.decl.is_void())
            .collect();
        let default_frees = u
            .default
            .as_ref()
            .is_some_and(|d| !d.is_void() && self.decl_needs_free(d, &mut HashSet::new()));
        if !freeing.is_empty() || default_frees {
            c.open(format!("switch (v->{dn}) {{"));
            for arm in freeing {
                for v in &arm.cases {
                    c.line(format!("case {}:", v.text));
                }
                c.indent();
                self.free_decl(c, &arm.decl, &arm_lv(&arm.decl));
                c.line("break;");
                c.dedent();
            }
            // Cases whose arm owns nothing must not fall into default.
            for arm in &u.arms {
                if arm.decl.is_void() || !self.decl_needs_free(&arm.decl, &mut HashSet::new()) {
                    for v in &arm.cases {
                        c.line(format!("case {}:", v.text));
                    }
                    c.line("\tbreak;");
                }
            }
            c.line("default:");
            c.indent();
            if let (true, Some(d)) = (default_frees, &u.default) {
                self.free_decl(c, d, &arm_lv(d));
            }
            c.line("break;");
            c.dedent();
            c.close("}");
        }
        c.close("}\n");
        Ok(())
    }

    fn typedef_fns(&self, c: &mut Code, d: &Decl) -> Result<(), IdlError> {
        let name = &d.name;
        self.fixed_fns(c, name, &|c, pack| {
            if pack {
                self.pack_decl(c, d, "(*v)");
            } else {
                self.unpack_decl(c, d, "(*v)", "return NULL;");
            }
        });
        self.fn_start(
            c,
            &format!("static int enc_{name}(xipc_encoder *e, const {name} *v)"),
        );
        c.line("int rc = 0;");
        self.enc_decl(c, d, "(*v)");
        c.line("return rc;");
        c.close("}\n");
        self.fn_start(
            c,
            &format!("static int dec_{name}(xipc_decoder *d, {name} *v)"),
        );
        c.line("int rc = 0;");
        self.dec_decl(c, d, "(*v)");
        c.line("return rc;");
        c.close("}\n");
        self.fn_start(c, &format!("static void fre_{name}({name} *v)"));
        c.line("(void)v;");
        self.free_decl(c, d, "(*v)");
        c.close("}\n");
        Ok(())
    }

    // ---- RPC stubs ----

    fn register_fn(&self, c: &mut Code, p: &ProgramDef, v: &VersionDef, vn: i64) {
        c.line(format!(
            "int {}_{vn}_register(xipc_rpc_server *server, void *user)\n{{",
            lower(&p.name)
        ));
        c.line("\tint rc = 0;");
        for pr in &v.procs {
            c.line(format!(
                "\trc = xipc_rpc_server_register(server, (uint32_t)({}), (uint32_t)({}), (uint32_t)({}), {}_{vn}_handler, user);\n\tif (rc != 0)\n\t\treturn rc;",
                p.name, v.name, pr.name, lower(&pr.name)
            ));
        }
        c.line("\treturn rc;\n}\n");
    }

    /// A procedure argument or result as a named declaration.
    fn named(&self, d: &Decl, name: &str) -> Decl {
        let mut d = d.clone();
        d.name = name.to_string();
        d
    }

    /// Encode, decode and free functions for each argument and the result
    /// of a procedure, so the stubs handle anonymous types (`string`, `int *`)
    /// like named ones.
    fn proc_codecs(&self, c: &mut Code, pr: &ProcDef, vn: i64) {
        let lname = lower(&pr.name);
        let mut parts: Vec<(String, &Decl)> = pr
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("arg{}", i + 1), a))
            .collect();
        if !pr.result.is_void() {
            parts.push(("result".to_string(), &pr.result));
        }
        for (part, decl) in parts {
            let d = self.named(decl, &part);
            let t = self.proc_type(decl);
            let f = format!("{lname}_{vn}_{part}");
            self.fn_start(
                c,
                &format!("static XG_UNUSED int enc_{f}(xipc_encoder *e, {t} const *v)"),
            );
            c.line("int rc = 0;");
            self.enc_decl(c, &d, "(*v)");
            c.line("return rc;");
            c.close("}\n");
            self.fn_start(c, &format!("static XG_UNUSED void fre_{f}({t} *v)"));
            c.line("(void)v;");
            self.free_decl(c, &d, "(*v)");
            c.close("}\n");
            self.fn_start(
                c,
                &format!("static XG_UNUSED int dec_{f}(xipc_decoder *d, {t} *v)"),
            );
            c.line("int rc = 0;");
            self.dec_decl(c, &d, "(*v)");
            c.line("return rc;");
            c.close("}\n");
        }
    }

    fn client_fn(&self, c: &mut Code, pr: &ProcDef, vn: i64) {
        let lname = lower(&pr.name);
        c.line(self.client_proto(pr, vn));
        c.open("{");
        c.line("xipc_encoder *e = NULL;\nxipc_decoder *d = NULL;\nconst uint8_t *args = NULL;\nsize_t args_len = 0;\nuint8_t *reply = NULL;\nsize_t reply_len = 0;\nint rc;");
        c.line("rc = xipc_encoder_new(&e);\nif (rc != 0)\n\treturn rc;");
        for i in 1..=pr.args.len() {
            c.line(format!(
                "if (rc == 0)\n\trc = enc_{lname}_{vn}_arg{i}(e, arg{i});"
            ));
        }
        c.line("if (rc == 0)\n\trc = xipc_encoder_data(e, &args, &args_len);");
        c.line(format!(
            "if (rc == 0)\n\trc = xipc_rpc_client_call(clnt, (uint32_t)({}), args, args_len, &reply, &reply_len);",
            pr.name
        ));
        c.line("if (rc == 0)\n\trc = xipc_decoder_new(reply, reply_len, NULL, &d);");
        if !pr.result.is_void() {
            c.open("if (rc == 0) {");
            c.line("memset(result, 0, sizeof *result);");
            c.line(format!("rc = dec_{lname}_{vn}_result(d, result);"));
            c.line(STRICT_FINISH);
            c.open("if (rc != 0) {");
            c.line(format!(
                "fre_{lname}_{vn}_result(result);\nmemset(result, 0, sizeof *result);"
            ));
            c.close("}");
            c.close("}");
        } else {
            c.line(STRICT_FINISH);
        }
        c.line("xipc_decoder_free(d);\nxipc_bytes_free(reply, reply_len);\nxipc_encoder_free(e);\nreturn rc;");
        c.close("}\n");
    }

    fn handler_fn(&self, c: &mut Code, pr: &ProcDef, vn: i64) {
        let lname = lower(&pr.name);
        c.line(format!(
            "static int {lname}_{vn}_handler(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t args_len, xipc_encoder *e)"
        ));
        c.open("{");
        for (i, a) in pr.args.iter().enumerate() {
            c.line(format!("{} arg{};", self.proc_type(a), i + 1));
        }
        if !pr.result.is_void() {
            c.line(format!("{} result;", self.proc_type(&pr.result)));
        }
        c.line("xipc_decoder *d = NULL;\nint rc;");
        for i in 0..pr.args.len() {
            c.line(format!("memset(&arg{0}, 0, sizeof arg{0});", i + 1));
        }
        if !pr.result.is_void() {
            c.line("memset(&result, 0, sizeof result);");
        }
        c.line("rc = xipc_decoder_new(args, args_len, NULL, &d);\nif (rc != 0)\n\treturn XIPC_ESYSTEM_ERR;");
        c.open("do {");
        for (i, _) in pr.args.iter().enumerate() {
            c.line(format!(
                "if (rc == 0)\n\trc = dec_{lname}_{vn}_arg{0}(d, &arg{0});",
                i + 1
            ));
        }
        c.line(STRICT_FINISH);
        c.open("if (rc != 0) {");
        c.line("rc = XIPC_EGARBAGE_ARGS;\nbreak;");
        c.close("}");
        // Cast: C (before C23) does not convert a pointer to an array
        // (a typedef'd opaque[n]) to a pointer to a const array by itself.
        let mut call_args: Vec<String> = pr
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| format!("({} const *)&arg{}", self.proc_type(a), i + 1))
            .collect();
        if !pr.result.is_void() {
            call_args.push("&result".into());
        }
        call_args.push("call".into());
        call_args.push("user".into());
        c.line(format!(
            "rc = {lname}_{vn}_svc({});\nif (rc != 0)\n\tbreak;",
            call_args.join(", ")
        ));
        if !pr.result.is_void() {
            c.line(format!(
                "rc = enc_{lname}_{vn}_result(e, ({} const *)&result);\nif (rc != 0)\n\trc = XIPC_ESYSTEM_ERR;",
                self.proc_type(&pr.result)
            ));
        } else {
            c.line("(void)e;");
        }
        c.close("} while (0);");
        for (i, _) in pr.args.iter().enumerate() {
            c.line(format!("fre_{lname}_{vn}_arg{0}(&arg{0});", i + 1));
        }
        if !pr.result.is_void() {
            c.line(format!("fre_{lname}_{vn}_result(&result);"));
        }
        c.line("xipc_decoder_free(d);\nreturn rc;");
        c.close("}\n");
    }
}

/// Bytes after a reply's results or a call's arguments are ignored, as
/// libtirpc ignores them, unless the stubs are compiled with
/// `XIPC_GEN_STRICT` defined.
const STRICT_FINISH: &str =
    "#ifdef XIPC_GEN_STRICT\nif (rc == 0)\n\trc = xipc_decoder_finish(d);\n#endif";

enum Run<'d> {
    Fixed(Vec<&'d Decl>, usize),
    One(&'d Decl),
}

const HELPERS: &str = r#"
#if defined(__GNUC__) || defined(__clang__)
#define XG_UNUSED __attribute__((unused))
#else
#define XG_UNUSED
#endif
#define XG_TRY(expr) do { rc = (expr); if (rc != 0) return rc; } while (0)

static XG_UNUSED unsigned char *xg_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

static XG_UNUSED unsigned char *xg_put64(unsigned char *p, uint64_t v)
{
	p = xg_put32(p, (uint32_t)(v >> 32));
	return xg_put32(p, (uint32_t)v);
}

static XG_UNUSED unsigned char *xg_putf(unsigned char *p, float f)
{
	uint32_t v;
	memcpy(&v, &f, 4);
	return xg_put32(p, v);
}

static XG_UNUSED unsigned char *xg_putd(unsigned char *p, double f)
{
	uint64_t v;
	memcpy(&v, &f, 8);
	return xg_put64(p, v);
}

static XG_UNUSED uint32_t xg_get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static XG_UNUSED uint64_t xg_get64(const unsigned char *p)
{
	return ((uint64_t)xg_get32(p) << 32) | (uint64_t)xg_get32(p + 4);
}

static XG_UNUSED float xg_getf(const unsigned char *p)
{
	uint32_t v = xg_get32(p);
	float f;
	memcpy(&f, &v, 4);
	return f;
}

static XG_UNUSED double xg_getd(const unsigned char *p)
{
	uint64_t v = xg_get64(p);
	double f;
	memcpy(&f, &v, 8);
	return f;
}

static XG_UNUSED int xg_zero(const unsigned char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static XG_UNUSED int xg_put_flag(xipc_encoder *e, int present)
{
	unsigned char b[4];
	xg_put32(b, present ? 1u : 0u);
	return xipc_encoder_put_raw(e, b, 4);
}

static XG_UNUSED int xg_get_flag(xipc_decoder *d, int *present)
{
	bool b;
	int rc = xipc_decoder_get_bool(d, &b);
	if (rc != 0)
		return rc;
	*present = b;
	return 0;
}

"#;

/// A constant's C text: as written, except that a decimal number above
/// `LLONG_MAX` gets a `ULL` suffix (unsuffixed, C would warn that it is
/// too large for a signed type) and `LLONG_MIN` is written as C can.
fn c_const(k: &ConstDef) -> String {
    let t = &k.value.text;
    match super::lex::parse_number(t) {
        Some(v) if v > i128::from(i64::MAX) && !t.starts_with("0x") && !t.starts_with("0X") => {
            format!("{v}ULL")
        }
        // Its digits alone do not fit a long long.
        Some(v) if v == i128::from(i64::MIN) => "(-9223372036854775807LL - 1)".to_string(),
        _ => t.clone(),
    }
}

/// A number in C: with a `ULL` suffix above `LLONG_MAX`.
fn c_number(v: i128) -> String {
    if v > i128::from(i64::MAX) {
        format!("{v}ULL")
    } else {
        v.to_string()
    }
}

/// The C statement that fails the encoding of a NULL `char *` string, as
/// rpcgen's `xdr_string` does, with the field's name in the message.
fn null_string_check(lv: &str, name: &str) -> String {
    let what = if name.is_empty() { "value" } else { name };
    format!("if (({lv}) == NULL)\n\treturn xipc_encoder_refuse_null_string(e, \"{what}\");")
}
