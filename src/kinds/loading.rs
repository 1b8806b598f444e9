//! What a kind's spec sees while the playbook loads: which item it belongs to, the variables
//! its `${name}` references take, and how to name the item in an error.

use serde_json::Value;

use crate::error::Error;
use crate::vocabulary::Variables;

pub struct LoadContext<'a> {
    /// How errors name the playbook (a file path, "built-in default").
    pub source: &'a str,
    pub id: &'a str,
    pub vars: &'a Variables,
}

impl LoadContext<'_> {
    /// An error about this item, named by playbook and item ID.
    pub(crate) fn invalid(&self, message: impl std::fmt::Display) -> Error {
        Error::Playbook {
            path: self.source.to_string(),
            message: format!("items: item {}: {message}", self.id),
        }
    }

    /// Replaces `${name}` with a variable's value.
    pub(crate) fn substitute(&self, text: &str) -> crate::error::Result<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| self.invalid(format!("unclosed `${{` in `{text}`")))?;
            let value = match &after[..end] {
                "syslog_address" => self.vars.syslog_address.as_str(),
                "userns_remap" => self.vars.userns_remap.as_str(),
                "audit_key" => self.vars.audit_key.as_str(),
                other => return Err(self.invalid(format!("unknown variable `{other}`"))),
            };
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A JSON value with `${name}` substituted when it is a string.
    pub(crate) fn substitute_value(&self, value: Value) -> crate::error::Result<Value> {
        match value {
            Value::String(s) => Ok(Value::String(self.substitute(&s)?)),
            other => Ok(other),
        }
    }
}
