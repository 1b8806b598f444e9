//! Items a program cannot judge from the host (image provenance, secrets in Dockerfiles, key
//! rotation): they report NOTE with what a person should verify. Swarm-only items pass when
//! the live daemon says swarm mode is inactive.

use super::{ItemKind, LoadContext};
use crate::error::Result;
use serde::Deserialize;

use super::{Status, Verdict};
use crate::facts::Facts;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteSpec {
    /// What a person should check.
    pub verify: String,
    /// Only relevant in swarm mode.
    #[serde(default)]
    pub swarm_only: bool,
}

pub(crate) fn check(spec: &NoteSpec, facts: &Facts) -> Verdict {
    if spec.swarm_only
        && facts
            .daemon
            .engine_info()
            .is_some_and(|info| !info.swarm_active)
    {
        return Verdict::pass("swarm mode is inactive on this daemon");
    }
    Verdict::new(
        Status::Note,
        vec!["docker-harden cannot judge this from the host".into()],
    )
    .fix(format!("verify by hand: {}", spec.verify.trim()))
}

impl ItemKind for NoteSpec {
    type Raw = NoteSpec;
    const REPORT_ONLY: Option<&'static str> =
        Some("report only: the change needs a decision only the operator can make");

    fn from_raw(raw: NoteSpec, _: &LoadContext<'_>) -> Result<NoteSpec> {
        Ok(raw)
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
}
