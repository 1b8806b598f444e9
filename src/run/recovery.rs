//! Runs interrupted while applying: no run is planned or applied on top of one that changed a
//! file, since its files may be half written and a new run's backups would save that state as
//! the "original".

use crate::error::{Error, Result};
use crate::records::StateDir;
use crate::rootfs::RootFs;
use crate::transaction;

/// Refuses to plan on top of a run that was interrupted while applying. A run in progress in
/// another process is reported as such. Nothing is written. `next` is the command to run
/// again once the interrupted run is rolled back.
pub(crate) fn refuse_interrupted(rootfs: &RootFs, invoked_as: &str, next: &str) -> Result<()> {
    let Some(state) = StateDir::open(rootfs)? else {
        return Ok(());
    };
    if let Some(busy) = state.locked_by_another()? {
        return Err(busy);
    }
    closable_interrupted(rootfs, invoked_as, next).map(drop)
}

/// The interrupted run, when there is one that changed nothing (the files are as planned
/// from, and the next run closes it); an error when it changed a file. Run with the lock held,
/// or after `StateDir::locked_by_another` said no run is in progress.
pub(super) fn closable_interrupted(
    rootfs: &RootFs,
    invoked_as: &str,
    next: &str,
) -> Result<Option<String>> {
    match transaction::interrupted_run(rootfs)? {
        Some(run) if transaction::changed_nothing(rootfs, &run)? => Ok(Some(run)),
        Some(run) => Err(Error::Interrupted {
            run,
            command: invoked_as.into(),
            next: next.into(),
        }),
        None => Ok(None),
    }
}
