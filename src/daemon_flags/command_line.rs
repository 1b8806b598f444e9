//! systemd's command-line syntax: splitting into words, `$VAR` expansion, specifiers.

use std::collections::HashMap;

use super::env_file::is_env_name;

/// Split a systemd command line or Environment= value into words: whitespace
/// separated, single and double quotes, C-style backslash escapes. `None`
/// for an unterminated quote, on which systemd ignores the whole directive.
pub(super) fn systemd_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                in_word = true;
                match it.next() {
                    Some('n') => cur.push('\n'),
                    Some('t') => cur.push('\t'),
                    Some('r') => cur.push('\r'),
                    Some('s') => cur.push(' '),
                    Some(other) => cur.push(other),
                    None => {}
                }
            }
            q @ ('"' | '\'') if quote.is_none() => {
                quote = Some(q);
                in_word = true;
            }
            q if Some(q) == quote => quote = None,
            c if quote.is_none() && c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// Expands one command-line word per systemd.service(5) "Command lines":
/// a word that is exactly `$VAR` becomes the value split at whitespace (zero
/// or more words; nothing if unset); `${VAR}` anywhere in a word is replaced
/// by the exact value, keeping the word a single argument, and an unset
/// variable leaves an empty string, so a lone unset `${VAR}` is one empty
/// argument; `$$` is a literal `$`. A `$VAR` inside a longer word is not a
/// substitution in systemd and stays literal.
pub(super) fn expand_word(word: &str, env: &HashMap<String, String>, out: &mut Vec<String>) {
    if let Some(name) = word.strip_prefix('$').filter(|n| is_env_name(n)) {
        if let Some(value) = env.get(name) {
            out.extend(value.split_whitespace().map(str::to_string));
        }
        return;
    }
    let mut result = String::new();
    let mut rest = word;
    while let Some(idx) = rest.find('$') {
        result.push_str(&rest[..idx]);
        let after = &rest[idx + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            result.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after
            .strip_prefix('{')
            .and_then(|b| b.split_once('}'))
            .filter(|(n, _)| is_env_name(n))
        {
            if let Some(value) = env.get(name) {
                result.push_str(value);
            }
            rest = tail;
        } else {
            result.push('$');
            rest = after;
        }
    }
    result.push_str(rest);
    out.push(result);
}

/// systemd specifiers: only `%%` is resolved, since the others (`%n`, `%i`,
/// ...) never name dockerd settings and need unit context we do not have.
pub(super) fn unescape_specifiers(s: &str) -> String {
    s.replace("%%", "%")
}
