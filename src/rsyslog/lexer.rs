//! Lexing: rsyslog mixes one-line legacy directives/selectors with RainerScript objects that
//! may span lines, and `#` is a comment only outside quotes.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tk {
    Word(String),
    Str(String),
    Punct(char),
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tk: Tk,
    pub(super) line: usize,
    pub(super) end_line: usize,
    /// Byte range of the value within its line; None for strings that span
    /// lines, which we never rewrite.
    pub(super) span: Option<(usize, usize)>,
}

#[derive(Debug, Clone)]
pub(super) struct Stmt {
    pub(super) first: usize,
    pub(super) last: usize,
    pub(super) toks: Vec<Token>,
}

pub(super) struct OpenStr {
    pub(super) quote: char,
    pub(super) val: String,
    pub(super) line: usize,
    pub(super) start: usize,
}

impl OpenStr {
    /// The string token this quote makes when it ends at byte `end` of line `line`; its span
    /// only when it started on that line.
    fn close(&mut self, line: usize, end: usize) -> Token {
        Token {
            tk: Tk::Str(std::mem::take(&mut self.val)),
            line: self.line,
            end_line: line,
            span: (self.line == line).then_some((self.start, end)),
        }
    }
}

/// Lines without their terminators; indices match `split_inclusive('\n')`
/// so parse positions map straight onto the rendered output.
pub(super) fn lines_of(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

pub(super) fn is_delim(c: char, in_object: bool) -> bool {
    c.is_whitespace()
        || matches!(c, '#' | '"' | '(' | ')' | '=' | '[' | ']' | ',' | '{' | '}')
        || (in_object && c == '\'')
}

pub(super) fn finish(out: &mut Vec<Stmt>, cur: &mut Vec<Token>) {
    if let (Some(f), Some(l)) = (cur.first(), cur.last()) {
        out.push(Stmt {
            first: f.line,
            last: l.end_line,
            toks: std::mem::take(cur),
        });
    }
}

/// Split text into statements. Only a RainerScript object (`name(`) may
/// continue onto the next line: letting a stray `(` in a selector carry over
/// would swallow the rest of the file.
pub(super) fn statements(lines: &[&str]) -> Vec<Stmt> {
    let mut out = Vec::new();
    let mut cur: Vec<Token> = Vec::new();
    let mut depth = 0usize;
    let mut object = false;
    let mut open: Option<OpenStr> = None;
    let mut escaped = false;

    for (li, line) in lines.iter().enumerate() {
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        let mut k = 0;
        while k < chars.len() {
            let (i, c) = chars[k];
            if let Some(s) = open.as_mut() {
                if escaped {
                    s.val.push(c);
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == s.quote {
                    cur.push(s.close(li, i));
                    open = None;
                } else {
                    s.val.push(c);
                }
                k += 1;
                continue;
            }
            let punct = |c: char| Token {
                tk: Tk::Punct(c),
                line: li,
                end_line: li,
                span: Some((i, i + c.len_utf8())),
            };
            match c {
                c if c.is_whitespace() => {}
                '#' => break,
                '"' => {
                    open = Some(OpenStr {
                        quote: c,
                        val: String::new(),
                        line: li,
                        start: i + 1,
                    })
                }
                '\'' if depth > 0 => {
                    open = Some(OpenStr {
                        quote: c,
                        val: String::new(),
                        line: li,
                        start: i + 1,
                    })
                }
                '(' => {
                    if depth == 0 && cur.len() == 1 && matches!(cur[0].tk, Tk::Word(_)) {
                        object = true;
                    }
                    depth += 1;
                    cur.push(punct(c));
                }
                ')' => {
                    cur.push(punct(c));
                    depth = depth.saturating_sub(1);
                    if depth == 0 && object {
                        finish(&mut out, &mut cur);
                        object = false;
                    }
                }
                '=' | '[' | ']' | ',' | '{' | '}' => cur.push(punct(c)),
                _ => {
                    let start = i;
                    while k < chars.len() && !is_delim(chars[k].1, depth > 0) {
                        k += 1;
                    }
                    let end = chars.get(k).map_or(line.len(), |x| x.0);
                    cur.push(Token {
                        tk: Tk::Word(line[start..end].to_string()),
                        line: li,
                        end_line: li,
                        span: Some((start, end)),
                    });
                    continue;
                }
            }
            k += 1;
        }
        let continuing = object && depth > 0;
        if let Some(s) = open.as_mut() {
            if continuing {
                s.val.push('\n');
            } else {
                // An unterminated quote outside an object ends with its line,
                // as rsyslog's legacy parser treats it.
                cur.push(s.close(li, line.len()));
                open = None;
            }
        }
        if !continuing {
            escaped = false;
            depth = 0;
            object = false;
            finish(&mut out, &mut cur);
        }
    }
    if let Some(s) = open.take() {
        cur.push(Token {
            tk: Tk::Str(s.val),
            line: s.line,
            end_line: lines.len().saturating_sub(1),
            span: None,
        });
    }
    finish(&mut out, &mut cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsyslog::fixtures::*;
    use crate::rsyslog::inputs::module_loaded;
    use crate::rsyslog::proto::Proto;

    #[test]
    fn rhel_multiline_statements_parse() {
        let files = main_only(RHEL);
        assert!(module_loaded(&files, Proto::Tcp).is_none());
        let imjournal = statements(&lines_of(RHEL))
            .into_iter()
            .find(|s| matches!(&s.toks[0].tk, Tk::Word(w) if w == "module") && s.first == 9)
            .expect("imjournal module statement");
        assert_eq!(imjournal.last, 10);
    }

    #[test]
    fn hash_inside_quotes_is_not_a_comment() {
        let text =
            "template(name=\"t\" type=\"string\" string=\"#%msg%\") module(load=\"imtcp\")\n";
        assert!(module_loaded(&main_only(text), Proto::Tcp).is_some());
        let text =
            "template(name=\"t\" type=\"string\"\n string=\"a\n#b)\") module(load=\"imtcp\")\n";
        assert_eq!(
            module_loaded(&main_only(text), Proto::Tcp).map(|f| f.line),
            Some(3)
        );
    }
}
