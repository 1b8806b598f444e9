//! The files and sets of files items are about, named once so facts can resolve them for the
//! daemon being judged and kinds can refer to them.

use serde::Deserialize;

/// A file or set of files an item is about, resolved against the host's facts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Dockerd,
    ContainerdRunDir,
    DataRoot,
    ConfigDir,
    DockerServiceUnit,
    ContainerdSock,
    DockerSocketUnit,
    DefaultDocker,
    DaemonJson,
    ContainerdConfig,
    SysconfigDocker,
    Containerd,
    ContainerdShim,
    ContainerdShimRuncV1,
    ContainerdShimRuncV2,
    Runc,
    ExtraPaths,
    RegistryCerts,
    TlsCa,
    TlsCert,
    TlsKey,
    DockerSock,
}
