//! A small indenting text writer the generators share.

/// Lines of generated code with an indentation level.
pub struct Code {
    text: String,
    indent: usize,
    unit: &'static str,
}

impl Code {
    /// A writer indenting by `unit` per level.
    pub fn new(unit: &'static str) -> Code {
        Code {
            text: String::new(),
            indent: 0,
            unit,
        }
    }

    /// One line at the current indentation (empty lines stay empty).
    pub fn line(&mut self, s: impl AsRef<str>) {
        let s = s.as_ref();
        for l in s.split('\n') {
            if !l.is_empty() {
                for _ in 0..self.indent {
                    self.text.push_str(self.unit);
                }
                self.text.push_str(l);
            }
            self.text.push('\n');
        }
    }

    /// A line, then one level deeper.
    pub fn open(&mut self, s: impl AsRef<str>) {
        self.line(s);
        self.indent += 1;
    }

    /// One level shallower, then a line.
    pub fn close(&mut self, s: impl AsRef<str>) {
        self.indent = self.indent.saturating_sub(1);
        self.line(s);
    }

    /// One level deeper.
    pub fn indent(&mut self) {
        self.indent += 1;
    }

    /// One level shallower.
    pub fn dedent(&mut self) {
        self.indent = self.indent.saturating_sub(1);
    }

    /// An empty line.
    pub fn blank(&mut self) {
        self.text.push('\n');
    }

    /// Text appended as is (no indentation).
    pub fn raw(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Lines written at indentation 0 elsewhere, re-indented to here.
    pub fn raw_indented(&mut self, text: &str) {
        for l in text.lines() {
            self.line(l);
        }
    }

    pub fn finish(self) -> String {
        self.text
    }
}
