//! The words every layer shares: the host's well-known paths, the targets items are about and
//! the playbook's variables. It sits at the bottom with the daemons (`crate::daemons`) and the
//! account databases (`crate::accounts`): facts, kinds and the playbook loader all speak it,
//! and it imports nothing above the base modules.

pub(crate) mod paths;
mod syslog_address;
mod target;
mod variables;

pub use syslog_address::{SyslogAddress, SyslogEndpoint, SyslogTransport};
pub use target::Target;
pub use variables::Variables;
