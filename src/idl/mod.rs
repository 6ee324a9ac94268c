//! The `.x` interface language parser and code generators (issue 5).
