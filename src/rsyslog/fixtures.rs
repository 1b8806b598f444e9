//! Distribution configurations and helpers shared by the tests of this module.

use super::config::ConfFile;
use super::edit::Edit;
use super::inputs::listens;
use super::lexer::{lines_of, statements};
use super::plan::plan_listen;
use super::proto::Proto;
use super::statement::loads;

pub(super) const DROPIN: &str = "/etc/rsyslog.d/60-docker-harden-input.conf";

/// The host of the default syslog-address, which every input planned here binds.
pub(super) const LO: &str = "127.0.0.1";

pub(super) const DEBIAN: &str = r#"# /etc/rsyslog.conf configuration file for rsyslog
#
# For more information install rsyslog-doc and see
# /usr/share/doc/rsyslog-doc/html/configuration/index.html


#################
#### MODULES ####
#################

module(load="imuxsock") # provides support for local system logging
module(load="imklog")   # provides kernel logging support
#module(load="immark")  # provides --MARK-- message capability

# provides UDP syslog reception
#module(load="imudp")
#input(type="imudp" port="514")

# provides TCP syslog reception
#module(load="imtcp")
#input(type="imtcp" port="514")

###########################
#### GLOBAL DIRECTIVES ####
###########################

$FileOwner root
$FileGroup adm
$FileCreateMode 0640
$DirCreateMode 0755
$Umask 0022
$WorkDirectory /var/spool/rsyslog

$IncludeConfig /etc/rsyslog.d/*.conf

###############
#### RULES ####
###############

*.*;auth,authpriv.none		-/var/log/syslog
auth,authpriv.*			/var/log/auth.log
*.emerg				:omusrmsg:*
"#;

pub(super) const RHEL: &str = r#"# rsyslog configuration file

#### GLOBAL DIRECTIVES ####
global(workDirectory="/var/lib/rsyslog")
module(load="builtin:omfile" Template="RSYSLOG_TraditionalFileFormat")

#### MODULES ####
module(load="imuxsock"    # provides support for local system logging (e.g. via logger command)
   SysSock.Use="off") # Turn off message reception via local log socket;
module(load="imjournal"             # provides access to the systemd journal
   StateFile="imjournal.state") # File to store the position in the journal

include(file="/etc/rsyslog.d/*.conf" mode="optional")

# Provides UDP syslog reception
# for parameters see http://www.rsyslog.com/doc/imudp.html
#module(load="imudp") # needs to be done just once
#input(type="imudp" port="514")

# Provides TCP syslog reception
# for parameters see http://www.rsyslog.com/doc/imtcp.html
#module(load="imtcp") # needs to be done just once
#input(type="imtcp" port="514")

#### RULES ####
*.info;mail.none;authpriv.none;cron.none                /var/log/messages
authpriv.*                                              /var/log/secure
"#;

pub(super) const LEGACY: &str = "$ModLoad imuxsock\n$ModLoad imklog\n\n# Provides TCP syslog reception\n#$ModLoad imtcp\n#$InputTCPServerRun 514\n\n$IncludeConfig /etc/rsyslog.d/*.conf\n*.* /var/log/messages\n";

pub(super) fn cf(path: &str, text: &str) -> ConfFile {
    ConfFile {
        path: path.into(),
        text: text.into(),
    }
}

pub(super) fn main_only(text: &str) -> Vec<ConfFile> {
    vec![cf("/etc/rsyslog.conf", text)]
}

pub(super) fn apply(files: &[ConfFile], edits: &[Edit]) -> Vec<ConfFile> {
    let mut out = files.to_vec();
    for e in edits {
        match out.iter_mut().find(|f| f.path == e.path) {
            Some(f) => {
                assert_eq!(e.before.as_deref(), Some(f.text.as_str()));
                f.text = e.after.clone();
            }
            None => {
                assert!(e.before.is_none());
                out.push(cf(&e.path, &e.after));
            }
        }
    }
    out
}

pub(super) fn plan_apply(files: &[ConfFile], proto: Proto, port: u16) -> Vec<ConfFile> {
    let edits = plan_lo(files, proto, port);
    let after = apply(files, &edits);
    assert!(listens(&after, proto, port, LO), "{after:#?}");
    assert!(plan_lo(&after, proto, port).is_empty());
    after
}

pub(super) fn active_loads(files: &[ConfFile], proto: Proto) -> usize {
    files
        .iter()
        .map(|f| {
            statements(&lines_of(&f.text))
                .iter()
                .filter(|s| loads(s, proto).is_some())
                .count()
        })
        .sum()
}

/// The plan for proto/port that serves a client of LO, with the drop-in at DROPIN.
pub(super) fn plan_lo(files: &[ConfFile], proto: Proto, port: u16) -> Vec<Edit> {
    plan_listen(files, proto, port, LO, DROPIN)
}

/// The main file after the plan for proto/port on a configuration of that one file.
pub(super) fn planned(text: &str, proto: Proto, port: u16) -> String {
    plan_lo(&main_only(text), proto, port)[0].after.clone()
}
