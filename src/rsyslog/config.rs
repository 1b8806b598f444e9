//! The configuration files as the caller read them, and where in them a statement stands.

use super::lexer::{Stmt, lines_of, statements};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfFile {
    pub path: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) path: String,
    /// 1-based, first line of the statement.
    pub(crate) line: usize,
}

pub(super) fn find_stmt<T>(
    files: &[ConfFile],
    f: impl Fn(&Stmt) -> Option<T>,
) -> Option<(usize, Stmt, T)> {
    files.iter().enumerate().find_map(|(fi, file)| {
        statements(&lines_of(&file.text))
            .into_iter()
            .find_map(|st| f(&st).map(|t| (fi, st, t)))
    })
}

pub(super) fn found(files: &[ConfFile], fi: usize, st: &Stmt) -> Found {
    Found {
        path: files[fi].path.clone(),
        line: st.first + 1,
    }
}
