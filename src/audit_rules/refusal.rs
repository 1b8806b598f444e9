//! Why auditctl refuses a rules line, which makes it stop loading the file there.

use std::fmt;

use super::validate::MAX_KEY_LEN;

/// A reason auditctl gives up on a line; `option` is the option's name as auditctl's usage
/// writes it (`-w`, `--backlog_wait_time`), `value` its value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A word that names no auditctl option, as written (`--wat`, `-x`).
    UnknownOption(String),
    /// A long option abbreviated to a prefix of more than one.
    AmbiguousOption(String),
    NeedsValue(&'static str),
    TakesNoValue(&'static str),
    /// A trailing `\`: auditctl has no line continuation.
    Continued,
    /// A word that is neither an option nor an option's value.
    Stray(String),
    /// `-D` with anything but `-k KEY`.
    DeleteTakesOnlyKey,
    /// A second rule list or watch on the line.
    OneRulePerLine {
        option: &'static str,
        value: String,
    },
    NotListAction {
        option: &'static str,
        value: String,
    },
    RelativePath {
        option: &'static str,
        value: String,
    },
    PathTooLong(&'static str),
    /// `-p`, `-k` or `-F` before any rule list or watch.
    BeforeRule(&'static str),
    BadPermissions(String),
    /// The keys of the rule together are longer than the kernel takes.
    KeysTooLong,
    NotFieldValue(String),
    NotZeroOneTwo {
        option: &'static str,
        value: String,
    },
    NotANumber {
        option: &'static str,
        value: String,
    },
    /// `-h`, which prints the usage instead.
    PrintsUsage,
    /// `-R` inside a rules file.
    IncludesFile,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownOption(word) => write!(f, "`{word}` is not an auditctl option"),
            Refusal::AmbiguousOption(word) => {
                write!(f, "`{word}` is an ambiguous auditctl option")
            }
            Refusal::NeedsValue(option) => write!(f, "`{option}` needs a value"),
            Refusal::TakesNoValue(option) => write!(f, "`{option}` takes no value"),
            Refusal::Continued => f.write_str(
                "a rule cannot continue on the next line: auditctl reads the trailing `\\` as a stray word",
            ),
            Refusal::Stray(word) => {
                write!(f, "`{word}` is neither an option nor an option's value")
            }
            Refusal::DeleteTakesOnlyKey => f.write_str("`-D` takes only `-k KEY` with it"),
            Refusal::OneRulePerLine { option, value } => {
                write!(f, "`{option} {value}`: one rule per line")
            }
            Refusal::NotListAction { option, value } => {
                write!(f, "`{option} {value}` is not LIST,ACTION")
            }
            Refusal::RelativePath { option, value } => {
                write!(f, "`{option} {value}`: the path must start with /")
            }
            Refusal::PathTooLong(option) => write!(f, "`{option}`: the path is too long"),
            Refusal::BeforeRule(option) => {
                write!(f, "`{option}` before the watch or rule it belongs to")
            }
            Refusal::BadPermissions(value) => {
                write!(f, "`-p {value}`: permissions are letters of rwxa")
            }
            Refusal::KeysTooLong => write!(f, "keys longer than {MAX_KEY_LEN} characters"),
            Refusal::NotFieldValue(value) => write!(f, "`-F {value}` is not FIELD=VALUE"),
            Refusal::NotZeroOneTwo { option, value } => {
                write!(f, "`{option} {value}`: the value must be 0, 1 or 2")
            }
            Refusal::NotANumber { option, value } => {
                write!(f, "`{option} {value}`: the value must be a number")
            }
            Refusal::PrintsUsage => f.write_str("`-h` prints the usage instead of a rule"),
            Refusal::IncludesFile => f.write_str("`-R`: rules files cannot include other files"),
        }
    }
}
