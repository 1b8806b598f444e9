//! daemon.json: strict parsing with line and column, and merging keys while keeping the other
//! keys, their order, and the file's indentation.

use serde_json::{Map, Value};

/// Why a daemon.json text could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The settings a daemon.json holds, for judging what dockerd will do: none when the file is
/// absent or not valid (pre-flight and the checks report an invalid file themselves).
pub(crate) fn settings(bytes: Option<&[u8]>) -> Map<String, Value> {
    bytes
        .and_then(|b| parse(&String::from_utf8_lossy(b)).ok())
        .unwrap_or_default()
}

/// The top-level object of a daemon.json text. An empty (or blank) file is an empty object,
/// as dockerd treats it.
pub fn parse(text: &str) -> Result<Map<String, Value>, JsonError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(JsonError {
            line: 1,
            column: 1,
            message: "the top level must be a JSON object ({...})".into(),
        }),
        Err(e) => Err(JsonError {
            line: e.line(),
            // serde_json says column 0 for an end of file right after a newline; editors
            // count from 1.
            column: e.column().max(1),
            message: strip_location(&e.to_string()),
        }),
    }
}

fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// How the file is laid out, so a rewrite looks like the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    pub indent: String,
    pub trailing_newline: bool,
}

impl Style {
    /// Docker's documentation writes daemon.json with two spaces.
    pub(crate) fn default_for_new_file() -> Style {
        Style {
            indent: "  ".into(),
            trailing_newline: true,
        }
    }

    pub(crate) fn detect(text: &str) -> Style {
        let indent = text
            .lines()
            .skip(1)
            .map(|line| {
                let trimmed = line.trim_start_matches([' ', '\t']);
                &line[..line.len() - trimmed.len()]
            })
            .find(|ws| !ws.is_empty())
            .map(str::to_string);
        Style {
            indent: indent.unwrap_or_else(|| "  ".into()),
            trailing_newline: text.is_empty() || text.ends_with('\n'),
        }
    }
}

pub fn render(map: &Map<String, Value>, style: &Style) -> String {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(style.indent.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    serde::Serialize::serialize(map, &mut ser).expect("serialising a JSON map cannot fail");
    let mut out = String::from_utf8(buf).expect("serde_json writes UTF-8");
    if style.trailing_newline {
        out.push('\n');
    }
    out
}

/// Applies `edit` to the parsed file and renders the result in the file's own style. When the
/// edit changes nothing, the original text is returned untouched (no reformatting).
pub fn edit(
    text: Option<&str>,
    edit: impl FnOnce(&mut Map<String, Value>),
) -> Result<String, JsonError> {
    let (mut map, style) = match text {
        Some(t) => (parse(t)?, Style::detect(t)),
        None => (Map::new(), Style::default_for_new_file()),
    };
    let before = map.clone();
    edit(&mut map);
    match text {
        Some(t) if map == before => Ok(t.to_string()),
        _ => Ok(render(&map, &style)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn error_has_line_and_column() {
        let err = parse("{\n  \"icc\": false,\n}\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 1));
        assert!(!err.message.contains("at line"));
    }

    #[test]
    fn a_file_cut_short_after_a_newline_points_at_the_next_line() {
        let err = parse("{\n  \"icc\": false,\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 1));
    }

    #[test]
    fn top_level_must_be_object() {
        assert!(parse("[1]").is_err());
        assert_eq!(parse("  \n").unwrap(), Map::new());
    }

    #[test]
    fn merge_keeps_order_and_indent() {
        let text = "{\n    \"storage-driver\": \"overlay2\",\n    \"dns\": [\"1.1.1.1\"]\n}\n";
        let out = edit(Some(text), |m| {
            m.insert("icc".into(), json!(false));
        })
        .unwrap();
        assert_eq!(
            out,
            "{\n    \"storage-driver\": \"overlay2\",\n    \"dns\": [\n        \"1.1.1.1\"\n    ],\n    \"icc\": false\n}\n"
        );
    }

    #[test]
    fn unchanged_edit_keeps_bytes() {
        let text = "{\"icc\":false}";
        assert_eq!(
            edit(Some(text), |m| {
                m.insert("icc".into(), json!(false));
            })
            .unwrap(),
            text
        );
    }

    #[test]
    fn new_file() {
        let out = edit(None, |m| {
            m.insert("live-restore".into(), json!(true));
        })
        .unwrap();
        assert_eq!(out, "{\n  \"live-restore\": true\n}\n");
    }

    #[test]
    fn numbers_keep_their_spelling() {
        let text = "{\n  \"max-concurrent-downloads\": 3,\n  \"x\": 1.50\n}\n";
        let out = edit(Some(text), |m| {
            m.insert("icc".into(), json!(false));
        })
        .unwrap();
        assert!(out.contains("1.50"), "{out}");
    }

    fn json_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z0-9 ./:-]{0,12}".prop_map(Value::from),
        ]
    }

    fn json_doc() -> impl Strategy<Value = Map<String, Value>> {
        let value = json_leaf().prop_recursive(2, 8, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::vec(("[a-z-]{1,8}", inner), 0..3)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        });
        prop::collection::vec(("[a-z][a-z-]{0,15}", value), 0..8)
            .prop_map(|kv| kv.into_iter().collect())
    }

    proptest! {
        #[test]
        fn merge_is_idempotent_and_keeps_other_keys(
            doc in json_doc(),
            indent in prop_oneof![Just("  "), Just("    "), Just("\t")],
            key in prop_oneof![Just("icc"), Just("live-restore"), Just("userland-proxy")],
            want in any::<bool>(),
        ) {
            let original = render(&doc, &Style { indent: indent.into(), trailing_newline: true });
            let set = |m: &mut Map<String, Value>| { m.insert(key.to_string(), Value::from(want)); };
            let once = edit(Some(&original), set).unwrap();
            let twice = edit(Some(&once), set).unwrap();
            prop_assert_eq!(&once, &twice);
            let after = parse(&once).unwrap();
            prop_assert_eq!(after.get(key), Some(&Value::from(want)));
            // Every other key keeps its value and its relative order.
            let before_keys: Vec<&String> = doc.keys().filter(|k| *k != key).collect();
            let after_keys: Vec<&String> = after.keys().filter(|k| *k != key).collect();
            prop_assert_eq!(before_keys, after_keys);
            for (k, v) in &doc {
                if k != key { prop_assert_eq!(after.get(k), Some(v)); }
            }
            if doc.len() > 1 || (doc.len() == 1 && !doc.contains_key(key)) {
                let expected_indent = format!("\n{indent}\"");
                prop_assert!(once.contains(&expected_indent));
            }
        }
    }
}
