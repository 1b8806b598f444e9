//! Storage driver (CIS 2.6): report only, since switching drivers hides existing images.

use super::{ItemKind, LoadContext};
use crate::error::Result;
use serde::Deserialize;
use serde_json::Value;

use super::daemon_setting::configured;
use super::{Verdict, docker_missing};
use crate::facts::Facts;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageDriverSpec {
    pub forbidden: Vec<String>,
}

pub(crate) fn check(spec: &StorageDriverSpec, facts: &Facts) -> Verdict {
    if let Some(v) = docker_missing(facts) {
        return v;
    }
    let (driver, source) = match facts.daemon.engine_info() {
        Some(info) if !info.storage_driver.is_empty() => (
            info.storage_driver.clone(),
            "the running dockerd".to_string(),
        ),
        _ => {
            let (value, source) =
                configured(facts, "storage-driver", &Value::String(String::new()));
            match value.as_str() {
                Some("") | None => {
                    return Verdict::pass(
                        "storage-driver is not set: dockerd chooses overlay2 on current kernels",
                    );
                }
                Some(d) => (d.to_string(), source),
            }
        }
    };
    if spec.forbidden.contains(&driver) {
        Verdict::warn(format!(
            "storage driver is {driver} ({source}); move to overlay2 by hand (images must be pulled or rebuilt)"
        ))
    } else {
        Verdict::pass(format!("storage driver is {driver} ({source})"))
    }
}

impl ItemKind for StorageDriverSpec {
    type Raw = StorageDriverSpec;
    const REPORT_ONLY: Option<&'static str> =
        Some("report only: changing the storage driver hides existing images and containers");

    fn from_raw(raw: StorageDriverSpec, _: &LoadContext<'_>) -> Result<StorageDriverSpec> {
        Ok(raw)
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
}
