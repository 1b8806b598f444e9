//! Property tests: the argument parser recovers generated flags, and no text makes a parser
//! panic.

use proptest::prelude::*;
use std::collections::HashMap;

use super::args::{cmdline_args, parse_dockerd_args};
use super::env_file::{env_file_flags, parse_env_file, split_words};
use super::flag_table::{Kind, SPECS, Spec, is_known_flag};
use super::systemd_unit::{UnitFile, effective_exec_start, environment_files};

/// A generated flag occurrence: the argv words and the pair it must
/// parse to.
#[derive(Debug, Clone)]
pub(super) struct Gen {
    pub(super) words: Vec<String>,
    pub(super) name: String,
    pub(super) value: String,
}

pub(super) fn value_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9/:._=,-]{0,12}"
}

pub(super) fn flag_strategy() -> impl Strategy<Value = Gen> {
    let names: Vec<&'static Spec> = SPECS.iter().collect();
    (
        proptest::sample::select(names),
        value_strategy(),
        any::<bool>(),
        0u8..4,
    )
        .prop_map(|(spec, value, bv, form)| {
            let name = spec.name.to_string();
            match (spec.kind, spec.short, form) {
                (Kind::Bool, _, 0) => Gen {
                    words: vec![format!("--{name}")],
                    name,
                    value: "true".into(),
                },
                (Kind::Bool, Some(c), 1) => Gen {
                    words: vec![format!("-{c}")],
                    name,
                    value: "true".into(),
                },
                (Kind::Bool, Some(c), 2) => Gen {
                    words: vec![format!("-{c}={bv}")],
                    name,
                    value: bv.to_string(),
                },
                (Kind::Bool, _, _) => Gen {
                    words: vec![format!("--{name}={bv}")],
                    name,
                    value: bv.to_string(),
                },
                (Kind::Value, _, 0) => Gen {
                    words: vec![format!("--{name}={value}")],
                    name,
                    value,
                },
                (Kind::Value, Some(c), 1) => Gen {
                    words: vec![format!("-{c}"), value.clone()],
                    name,
                    value,
                },
                (Kind::Value, Some(c), 2)
                    if !value.is_empty()
                        && !value.starts_with('=')
                        && !is_known_flag(&format!(
                            "{c}{}",
                            value.split('=').next().unwrap_or_default()
                        )) =>
                {
                    Gen {
                        words: vec![format!("-{c}{value}")],
                        name,
                        value,
                    }
                }
                (Kind::Value, Some(c), 3) => Gen {
                    words: vec![format!("-{c}={value}")],
                    name,
                    value,
                },
                (Kind::Value, _, _) => Gen {
                    words: vec![format!("--{name}"), value.clone()],
                    name,
                    value,
                },
            }
        })
}

proptest! {
    #[test]
    fn never_panics(args in proptest::collection::vec(any::<String>(), 0..12)) {
        let _ = parse_dockerd_args(&args);
    }

    #[test]
    fn never_panics_dashy(args in proptest::collection::vec("[-=a-zA-Z ]{0,6}", 0..12)) {
        let p = parse_dockerd_args(&args);
        // An argument yields at most one unparsed entry.
        prop_assert!(p.unparsed.len() <= args.len());
    }

    #[test]
    fn recovers_generated_flags(
        gens in proptest::collection::vec(flag_strategy(), 0..10),
        stray in proptest::collection::vec("[a-z0-9/]{1,6}", 0..3),
    ) {
        let mut argv: Vec<String> = stray.clone();
        for g in &gens {
            argv.extend(g.words.iter().cloned());
        }
        let p = parse_dockerd_args(&argv);
        let got: Vec<(String, String)> =
            p.flags.iter().map(|f| (f.name.clone(), f.value.clone())).collect();
        let want: Vec<(String, String)> =
            gens.iter().map(|g| (g.name.clone(), g.value.clone())).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(p.unparsed, stray);
    }

    #[test]
    fn text_parsers_never_panic(text in any::<String>(), bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_env_file(&text);
        let _ = split_words(&text);
        let _ = cmdline_args(&bytes);
        let _ = env_file_flags(&text);
        let u = UnitFile { path: "/u".into(), text: format!("[Service]\n{text}") };
        let _ = effective_exec_start(&u, std::slice::from_ref(&u), &HashMap::new());
        let _ = environment_files(&u, &[]);
    }

    #[test]
    fn exec_start_roundtrip(args in proptest::collection::vec("[a-zA-Z0-9/:._=,-]{1,10}", 0..8)) {
        let text = format!("[Service]\nExecStart=/usr/bin/dockerd {}\n", args.join(" "));
        let u = UnitFile { path: "/u".into(), text };
        let e = effective_exec_start(&u, &[], &HashMap::new()).unwrap();
        prop_assert_eq!(e.args(), &args[..]);
    }
}
