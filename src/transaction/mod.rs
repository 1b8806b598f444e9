//! Applying a plan as one recorded transaction, and reverting it from the same record.
//!
//! A run takes the lock, checks that every file is still as planned, saves the originals and
//! its manifest (status `applying`), then moves each file from its before state to its after
//! state through `confined::Dir` (no symlink followed in any component). When a write fails,
//! the run undoes the writes before it, by renaming each replaced file back (it was kept
//! linked, so the undo needs no space on a full disk), and says so. A run killed part way
//! stays `applying`: `rollback` completes it, since a file at its before or its after state is
//! not drift, and `fix` refuses to stack a new run on it.
//!
//! The records themselves (state directory, lock, manifests) are `crate::records`.

mod apply;
mod recovery;
mod rollback;
mod transition;

pub use apply::{Applied, RunAbout, apply, commit};
pub use recovery::{changed_nothing, close_untouched, interrupted_run};
pub use rollback::{Reversal, apply_rollback, plan_rollback};
pub use transition::disk_state;

use crate::plan::ServiceAction;

/// A run's manifest, with the service actions it recorded.
pub(crate) type Manifest = crate::records::Manifest<ServiceAction>;
/// A saved run, its manifest read with the service actions this version knows.
pub(crate) type SavedRun = crate::records::SavedRun<ServiceAction>;
