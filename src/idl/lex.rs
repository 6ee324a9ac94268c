//! Tokens of the RPC language, with the preprocessing rpcgen gets from `cpp`.
//!
//! rpcgen runs the C preprocessor over a `.x` file before parsing it. We do
//! not run `cpp`: this module handles the directives `.x` files use itself,
//! so positions stay exact and the result does not depend on the host's cpp:
//! `#define NAME [tokens]` (object-like; substituted in definitions, not in
//! `%` lines), `#undef`, `#ifdef`, `#ifndef`, `#if`/`#elif` (integers,
//! macros, `defined`, `! && || == != < <= > >= + - ( )`), `#else`, `#endif`,
//! `#include "file"` (relative to the including file, then the include
//! directories) and `#include <file>` (include directories), `#error`.
//! `#pragma`, `#ident`, `#line`, `#warning` and cpp line markers are ignored.
//! Function-like macros are rejected with an error.

use super::{IdlError, Pos};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokKind {
    /// An identifier or keyword.
    Ident(String),
    /// A number as written (decimal, `0x` hex, leading-zero octal, maybe `-`).
    Num(String),
    /// One punctuation character: `{ } ( ) [ ] < > ; , = : *`.
    Punct(char),
    /// A string literal with its quotes, as written (rpcgen allows one as a
    /// `const` value).
    Str(String),
    /// A `%` line: the text after the `%`.
    Pass(String),
    /// End of input.
    Eof,
}

/// A token and where it starts.
#[derive(Clone, Debug)]
pub struct Token {
    /// What the token is.
    pub kind: TokKind,
    /// Where it starts.
    pub pos: Pos,
}

/// Where to find included files and which macros are predefined.
#[derive(Clone, Debug, Default)]
pub struct PreprocessOptions {
    /// Directories searched by `#include`.
    pub include_dirs: Vec<PathBuf>,
    /// Predefined object-like macros (name, value).
    pub defines: Vec<(String, String)>,
}

enum Macro {
    Object(Vec<TokKind>),
    Function,
}

struct Cond {
    /// This branch is being read.
    active: bool,
    /// Some branch of this `#if` chain has been taken.
    taken: bool,
    /// The enclosing context is active.
    parent: bool,
    pos: Pos,
}

/// Reads a file (or text) into tokens, preprocessing as it goes.
///
/// ```
/// use xipc::idl::lex::{Lexer, PreprocessOptions, TokKind};
/// let opts = PreprocessOptions {
///     defines: vec![("SIZE".into(), "32".into())],
///     ..PreprocessOptions::default()
/// };
/// let toks = Lexer::new(&opts).run("t.x", "opaque h[SIZE]; /* c */", None)?;
/// let kinds: Vec<TokKind> = toks.into_iter().map(|t| t.kind).collect();
/// assert_eq!(kinds[2..5], [TokKind::Punct('['), TokKind::Num("32".into()), TokKind::Punct(']')]);
/// assert_eq!(kinds.last(), Some(&TokKind::Eof));
/// # Ok::<(), xipc::idl::IdlError>(())
/// ```
pub struct Lexer<'o> {
    opts: &'o PreprocessOptions,
    macros: HashMap<String, Macro>,
    out: Vec<Token>,
    include_depth: usize,
    /// Macro expansions so far (bounded by [`MAX_EXPANSIONS`]).
    expansions: usize,
}

/// Most macro expansions in one file: macros defined in terms of each other
/// can expand exponentially (`#define B A A`, `#define C B B`, ...), and a
/// few hundred bytes must not make the compiler run for hours.
const MAX_EXPANSIONS: usize = 1 << 18;

impl<'o> Lexer<'o> {
    /// A lexer with the macros of `opts` predefined.
    pub fn new(opts: &'o PreprocessOptions) -> Lexer<'o> {
        let mut macros = HashMap::new();
        for (name, value) in &opts.defines {
            let toks = tokenize_plain(value);
            macros.insert(name.clone(), Macro::Object(toks));
        }
        Lexer {
            opts,
            macros,
            out: Vec::new(),
            include_depth: 0,
            expansions: 0,
        }
    }

    /// Tokens of `text`, named `file` in positions; `dir` resolves `#include "..."`.
    pub fn run(
        mut self,
        file: &str,
        text: &str,
        dir: Option<&Path>,
    ) -> Result<Vec<Token>, IdlError> {
        let name: Rc<str> = Rc::from(file);
        let pos = self.lex_file(&name, text, dir)?;
        self.out.push(Token {
            kind: TokKind::Eof,
            pos,
        });
        Ok(self.out)
    }

    /// Lexes one file; returns the position of its end.
    fn lex_file(
        &mut self,
        file: &Rc<str>,
        text: &str,
        dir: Option<&Path>,
    ) -> Result<Pos, IdlError> {
        let mut s = Scanner::new(file.clone(), text);
        let mut conds: Vec<Cond> = Vec::new();
        loop {
            let active = conds.last().map_or(true, |c| c.active);
            s.skip_blanks_and_comments(active)?;
            let Some(c) = s.peek() else { break };
            if s.at_line_start && c == '#' {
                let pos = s.pos();
                let line = s.directive_line();
                self.directive(&line, pos, &mut conds, dir)?;
                continue;
            }
            if !active {
                s.skip_line();
                continue;
            }
            if s.at_line_start && c == '%' && s.col == 1 {
                let pos = s.pos();
                s.bump();
                let mut text = String::new();
                while let Some(c) = s.peek() {
                    // A backslash-newline continues the line, as cpp splices it.
                    if c == '\\' && s.peek2() == Some('\n') {
                        text.push_str("\\\n");
                        s.bump();
                        s.bump();
                        continue;
                    }
                    if c == '\n' {
                        break;
                    }
                    text.push(c);
                    s.bump();
                }
                self.out.push(Token {
                    kind: TokKind::Pass(text.trim_end_matches('\r').to_string()),
                    pos,
                });
                continue;
            }
            let pos = s.pos();
            let kind = s.token()?;
            if let TokKind::Ident(name) = &kind {
                if self.macros.contains_key(name) {
                    self.expand(name, &pos, 0)?;
                    continue;
                }
            }
            self.out.push(Token { kind, pos });
        }
        if let Some(c) = conds.last() {
            return Err(IdlError::new(
                c.pos.clone(),
                "unterminated conditional: expected #endif before the end of the file",
            ));
        }
        Ok(s.pos())
    }

    fn expand(&mut self, name: &str, pos: &Pos, depth: usize) -> Result<(), IdlError> {
        self.expansions += 1;
        if self.expansions > MAX_EXPANSIONS {
            return Err(IdlError::new(
                pos.clone(),
                format!("macro {name}: more than {MAX_EXPANSIONS} macro expansions in one file"),
            ));
        }
        if depth > 64 {
            return Err(IdlError::new(
                pos.clone(),
                format!("macro {name} expands recursively"),
            ));
        }
        match self.macros.get(name) {
            Some(Macro::Function) => Err(IdlError::new(
                pos.clone(),
                format!("function-like macro {name} is not supported in definitions"),
            )),
            Some(Macro::Object(toks)) => {
                let toks = toks.clone();
                for kind in toks {
                    match &kind {
                        TokKind::Ident(n) if n != name && self.macros.contains_key(n) => {
                            self.expand(n, pos, depth + 1)?
                        }
                        _ => self.out.push(Token {
                            kind,
                            pos: pos.clone(),
                        }),
                    }
                }
                Ok(())
            }
            None => {
                self.out.push(Token {
                    kind: TokKind::Ident(name.to_string()),
                    pos: pos.clone(),
                });
                Ok(())
            }
        }
    }

    fn directive(
        &mut self,
        line: &str,
        pos: Pos,
        conds: &mut Vec<Cond>,
        dir: Option<&Path>,
    ) -> Result<(), IdlError> {
        let body = line.trim_start_matches('#').trim();
        let (word, rest) = match body.find(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
            Some(i) => (&body[..i], body[i..].trim()),
            None => (body, ""),
        };
        let active = conds.last().map_or(true, |c| c.active);
        let err = |msg: String| Err(IdlError::new(pos.clone(), msg));
        match word {
            "ifdef" | "ifndef" => {
                let name = first_word(rest);
                if name.is_empty() {
                    return err(format!("expected a macro name after #{word}"));
                }
                let defined = self.macros.contains_key(name);
                let v = if word == "ifdef" { defined } else { !defined };
                conds.push(Cond {
                    active: active && v,
                    taken: v,
                    parent: active,
                    pos,
                });
            }
            "if" => {
                let v = if active {
                    self.eval(rest, &pos)? != 0
                } else {
                    false
                };
                conds.push(Cond {
                    active: active && v,
                    taken: v,
                    parent: active,
                    pos,
                });
            }
            "elif" => {
                let Some(top) = conds.last() else {
                    return err("#elif without #if".into());
                };
                let (parent, taken) = (top.parent, top.taken);
                let v = if parent && !taken {
                    self.eval(rest, &pos)? != 0
                } else {
                    false
                };
                let top = conds.last_mut().expect("checked");
                top.active = parent && !taken && v;
                top.taken = taken || v;
            }
            "else" => {
                let Some(top) = conds.last_mut() else {
                    return err("#else without #if".into());
                };
                top.active = top.parent && !top.taken;
                top.taken = true;
            }
            "endif" => {
                if conds.pop().is_none() {
                    return err("#endif without #if".into());
                }
            }
            _ if !active => {}
            "define" => {
                let name = first_word(rest);
                if name.is_empty() || !is_ident_start(name.chars().next().unwrap_or('0')) {
                    return err("expected a macro name after #define".into());
                }
                let after = &rest[name.len()..];
                let mac = if after.starts_with('(') {
                    Macro::Function
                } else {
                    Macro::Object(tokenize_plain(after))
                };
                self.macros.insert(name.to_string(), mac);
            }
            "undef" => {
                self.macros.remove(first_word(rest));
            }
            "include" => self.include(rest, &pos, dir)?,
            "error" => return err(format!("#error {rest}")),
            "pragma" | "ident" | "sccs" | "line" | "warning" | "" => {}
            w if w.chars().all(|c| c.is_ascii_digit()) => {}
            other => return err(format!("unknown preprocessor directive #{other}")),
        }
        Ok(())
    }

    fn include(&mut self, rest: &str, pos: &Pos, dir: Option<&Path>) -> Result<(), IdlError> {
        let (name, quoted) = if let Some(r) = rest.strip_prefix('"') {
            (r.split('"').next().unwrap_or(""), true)
        } else if let Some(r) = rest.strip_prefix('<') {
            (r.split('>').next().unwrap_or(""), false)
        } else {
            return Err(IdlError::new(
                pos.clone(),
                "expected \"FILE\" or <FILE> after #include",
            ));
        };
        let mut candidates = Vec::new();
        if quoted {
            if let Some(d) = dir {
                candidates.push(d.join(name));
            }
        }
        candidates.extend(self.opts.include_dirs.iter().map(|d| d.join(name)));
        let Some(path) = candidates.into_iter().find(|p| p.is_file()) else {
            return Err(IdlError::new(
                pos.clone(),
                format!("cannot find included file {name} (add its directory with -I)"),
            ));
        };
        if self.include_depth > 32 {
            return Err(IdlError::new(pos.clone(), "#include nested too deeply"));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            IdlError::new(pos.clone(), format!("cannot read {}: {e}", path.display()))
        })?;
        let file: Rc<str> = Rc::from(path.display().to_string());
        self.include_depth += 1;
        let r = self.lex_file(&file, &text, path.parent());
        self.include_depth -= 1;
        r.map(|_| ())
    }

    fn eval(&self, expr: &str, pos: &Pos) -> Result<i64, IdlError> {
        let toks = tokenize_cond(expr);
        let mut p = CondParser {
            toks: &toks,
            i: 0,
            lexer: self,
            pos,
        };
        let v = p.or()?;
        if p.i != toks.len() {
            return Err(IdlError::new(
                pos.clone(),
                format!("cannot evaluate #if expression `{expr}`"),
            ));
        }
        Ok(v)
    }

    fn macro_value(&self, name: &str, depth: usize) -> i64 {
        match self.macros.get(name) {
            Some(Macro::Object(toks)) if depth < 16 => match toks.as_slice() {
                [TokKind::Num(n)] => parse_number(n)
                    .and_then(|v| i64::try_from(v).ok())
                    .unwrap_or(0),
                [TokKind::Ident(n)] => self.macro_value(n, depth + 1),
                [] => 0,
                _ => 0,
            },
            _ => 0,
        }
    }
}

fn first_word(s: &str) -> &str {
    let end = s
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(s.len());
    &s[..end]
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// Tokens of a macro body (errors become no tokens: they surface on use).
fn tokenize_plain(text: &str) -> Vec<TokKind> {
    let file: Rc<str> = Rc::from("<macro>");
    let mut s = Scanner::new(file, text);
    s.at_line_start = false;
    let mut out = Vec::new();
    loop {
        if s.skip_blanks_and_comments(true).is_err() {
            break;
        }
        if s.peek().is_none() {
            break;
        }
        match s.token() {
            Ok(t) => out.push(t),
            Err(_) => break,
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum CTok {
    Num(i64),
    Ident(String),
    Op(String),
}

fn tokenize_cond(expr: &str) -> Vec<CTok> {
    let b: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '/' && b.get(i + 1) == Some(&'/') {
            break;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            let text: String = b[start..i].iter().collect();
            let text = text.trim_end_matches(['u', 'U', 'l', 'L']);
            out.push(CTok::Num(parse_number(text).map(|v| v as i64).unwrap_or(0)));
        } else if is_ident_start(c) {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(CTok::Ident(b[start..i].iter().collect()));
        } else {
            let two: String = b[i..(i + 2).min(b.len())].iter().collect();
            if ["&&", "||", "==", "!=", "<=", ">="].contains(&two.as_str()) {
                out.push(CTok::Op(two));
                i += 2;
            } else {
                out.push(CTok::Op(c.to_string()));
                i += 1;
            }
        }
    }
    out
}

struct CondParser<'a, 'l, 'o> {
    toks: &'a [CTok],
    i: usize,
    lexer: &'l Lexer<'o>,
    pos: &'a Pos,
}

impl CondParser<'_, '_, '_> {
    fn op(&mut self, o: &str) -> bool {
        if self.toks.get(self.i) == Some(&CTok::Op(o.to_string())) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn fail<T>(&self) -> Result<T, IdlError> {
        Err(IdlError::new(
            self.pos.clone(),
            "cannot evaluate #if expression",
        ))
    }
    fn or(&mut self) -> Result<i64, IdlError> {
        let mut v = self.and()?;
        while self.op("||") {
            let r = self.and()?;
            v = i64::from(v != 0 || r != 0);
        }
        Ok(v)
    }
    fn and(&mut self) -> Result<i64, IdlError> {
        let mut v = self.cmp()?;
        while self.op("&&") {
            let r = self.cmp()?;
            v = i64::from(v != 0 && r != 0);
        }
        Ok(v)
    }
    fn cmp(&mut self) -> Result<i64, IdlError> {
        let mut v = self.add()?;
        loop {
            let f: fn(i64, i64) -> bool = if self.op("==") {
                |a, b| a == b
            } else if self.op("!=") {
                |a, b| a != b
            } else if self.op("<=") {
                |a, b| a <= b
            } else if self.op(">=") {
                |a, b| a >= b
            } else if self.op("<") {
                |a, b| a < b
            } else if self.op(">") {
                |a, b| a > b
            } else {
                return Ok(v);
            };
            let r = self.add()?;
            v = i64::from(f(v, r));
        }
    }
    fn add(&mut self) -> Result<i64, IdlError> {
        let mut v = self.unary()?;
        loop {
            if self.op("+") {
                v = v.wrapping_add(self.unary()?);
            } else if self.op("-") {
                v = v.wrapping_sub(self.unary()?);
            } else {
                return Ok(v);
            }
        }
    }
    fn unary(&mut self) -> Result<i64, IdlError> {
        if self.op("!") {
            return Ok(i64::from(self.unary()? == 0));
        }
        if self.op("-") {
            return Ok(self.unary()?.wrapping_neg());
        }
        if self.op("(") {
            let v = self.or()?;
            if !self.op(")") {
                return self.fail();
            }
            return Ok(v);
        }
        match self.toks.get(self.i).cloned() {
            Some(CTok::Num(n)) => {
                self.i += 1;
                Ok(n)
            }
            Some(CTok::Ident(name)) if name == "defined" => {
                self.i += 1;
                let paren = self.op("(");
                let Some(CTok::Ident(m)) = self.toks.get(self.i).cloned() else {
                    return self.fail();
                };
                self.i += 1;
                if paren && !self.op(")") {
                    return self.fail();
                }
                Ok(i64::from(self.lexer.macros.contains_key(&m)))
            }
            Some(CTok::Ident(name)) => {
                self.i += 1;
                Ok(self.lexer.macro_value(&name, 0))
            }
            _ => self.fail(),
        }
    }
}

/// Value of a number as the RPC language writes it: decimal, `0x` hex,
/// leading-zero octal, optionally negative; from -2^63 to 2^64 - 1, the
/// range of C's `long long` and `unsigned long long` that rpcgen's output
/// hands the constant to.
///
/// ```
/// use xipc::idl::lex::parse_number;
/// assert_eq!(parse_number("0x20000099"), Some(0x2000_0099));
/// assert_eq!(parse_number("010"), Some(8));
/// assert_eq!(parse_number("-5"), Some(-5));
/// assert_eq!(parse_number("0xffffffffffffffff"), Some(u64::MAX.into()));
/// assert_eq!(parse_number("-9223372036854775808"), Some(i64::MIN.into()));
/// assert_eq!(parse_number("0x10000000000000000"), None);
/// assert_eq!(parse_number("12ab"), None);
/// ```
pub fn parse_number(text: &str) -> Option<i128> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let v = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<u64>().ok()?
    };
    let v = i128::from(v);
    if neg {
        (-v >= i128::from(i64::MIN)).then_some(-v)
    } else {
        Some(v)
    }
}

struct Scanner {
    file: Rc<str>,
    chars: Vec<char>,
    i: usize,
    line: u32,
    col: u32,
    at_line_start: bool,
}

impl Scanner {
    fn new(file: Rc<str>, text: &str) -> Scanner {
        Scanner {
            file,
            chars: text.chars().collect(),
            i: 0,
            line: 1,
            col: 1,
            at_line_start: true,
        }
    }

    fn pos(&self) -> Pos {
        Pos::new(self.file.clone(), self.line, self.col)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek2(&self) -> Option<char> {
        self.chars.get(self.i + 1).copied()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.i += 1;
            if c == '\n' {
                self.line += 1;
                self.col = 1;
                self.at_line_start = true;
            } else {
                self.col += 1;
                if !c.is_whitespace() {
                    self.at_line_start = false;
                }
            }
        }
    }

    /// Skips white space and comments; a comment does not end a line start
    /// when it is all there is before a `#`.
    fn skip_blanks_and_comments(&mut self, active: bool) -> Result<(), IdlError> {
        loop {
            match (self.peek(), self.peek2()) {
                (Some(c), _) if c.is_whitespace() => self.bump(),
                (Some('/'), Some('*')) if active => {
                    let start = self.pos();
                    let line_start = self.at_line_start;
                    self.bump();
                    self.bump();
                    loop {
                        match (self.peek(), self.peek2()) {
                            (Some('*'), Some('/')) => {
                                self.bump();
                                self.bump();
                                break;
                            }
                            (Some(_), _) => self.bump(),
                            (None, _) => {
                                return Err(IdlError::new(
                                    start,
                                    "unterminated comment: expected */",
                                ))
                            }
                        }
                    }
                    if line_start && self.line == start.line {
                        self.at_line_start = true;
                    }
                }
                (Some('/'), Some('/')) if active => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.peek() {
            self.bump();
            if c == '\n' {
                break;
            }
        }
    }

    /// The rest of a directive line (joining backslash continuations).
    fn directive_line(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' && self.peek2() == Some('\n') {
                self.bump();
                self.bump();
                s.push(' ');
                continue;
            }
            if c == '\n' {
                self.bump();
                break;
            }
            s.push(c);
            self.bump();
        }
        // Drop a trailing comment.
        if let Some(i) = s.find("/*") {
            s.truncate(i);
        }
        if let Some(i) = s.find("//") {
            s.truncate(i);
        }
        s
    }

    fn token(&mut self) -> Result<TokKind, IdlError> {
        let pos = self.pos();
        let c = self.peek().expect("caller checked");
        if is_ident_start(c) {
            let mut s = String::new();
            while let Some(c) = self
                .peek()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                s.push(c);
                self.bump();
            }
            return Ok(TokKind::Ident(s));
        }
        if c.is_ascii_digit() || (c == '-' && self.peek2().is_some_and(|d| d.is_ascii_digit())) {
            let mut s = String::new();
            if c == '-' {
                s.push('-');
                self.bump();
            }
            while let Some(c) = self.peek().filter(|c| c.is_ascii_alphanumeric()) {
                s.push(c);
                self.bump();
            }
            if s.starts_with("-0x") || s.starts_with("-0X") {
                return Err(IdlError::new(
                    pos,
                    format!("negative hexadecimal constant {s}: rpcgen accepts only negative decimal constants"),
                ));
            }
            if parse_number(&s).is_none() {
                return Err(IdlError::new(pos, format!("invalid number {s}")));
            }
            return Ok(TokKind::Num(s));
        }
        if c == '"' {
            let mut s = String::from('"');
            self.bump();
            loop {
                match self.peek() {
                    Some('"') => {
                        s.push('"');
                        self.bump();
                        break;
                    }
                    Some('\\') => {
                        s.push('\\');
                        self.bump();
                        if let Some(c) = self.peek() {
                            s.push(c);
                            self.bump();
                        }
                    }
                    Some('\n') | None => {
                        return Err(IdlError::new(pos, "unterminated string: expected \""))
                    }
                    Some(c) => {
                        s.push(c);
                        self.bump();
                    }
                }
            }
            return Ok(TokKind::Str(s));
        }
        if "{}()[]<>;,=:*".contains(c) {
            self.bump();
            return Ok(TokKind::Punct(c));
        }
        Err(IdlError::new(
            pos,
            format!("illegal character {c:?} in file"),
        ))
    }
}
