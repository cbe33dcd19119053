//! Java `.properties` escaping, so every key and value reads back exactly as given.
//!
//! Kafka loads server.properties with `Properties.load(InputStream)`, which decodes ISO-8859-1 and
//! treats `\` as an escape: non-ASCII and control characters must be written as escapes.

use std::fmt::Write as _;

/// Escape a property key: separators (`=`, `:`, whitespace) and a leading comment mark (`#`, `!`)
/// would otherwise end or hide the key.
pub fn escape_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for (i, c) in key.chars().enumerate() {
        match c {
            '=' | ':' | ' ' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '!' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            _ => push_escaped(&mut out, c),
        }
    }
    out
}

/// Escape a property value: leading blanks would be dropped by the loader; `=`/`:` need no escape.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut leading = true;
    for c in value.chars() {
        if leading && c == ' ' {
            out.push_str("\\ ");
            continue;
        }
        leading = false;
        push_escaped(&mut out, c);
    }
    out
}

/// Read back a key or value as `Properties.load` does: `\uXXXX` (with surrogate pairs), `\t`,
/// `\n`, `\r`, `\f`, and `\x` for any other `x`. The inverse of [`escape_key`]/[`escape_value`].
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut units: Vec<u16> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'u') {
            chars.next();
            let hex: String = chars.by_ref().take(4).collect();
            if let Ok(unit) = u16::from_str_radix(&hex, 16) {
                units.push(unit);
                continue;
            }
            out.push_str(&hex);
            continue;
        }
        if !units.is_empty() {
            out.push_str(&String::from_utf16_lossy(&units));
            units.clear();
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    if !units.is_empty() {
        out.push_str(&String::from_utf16_lossy(&units));
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\x0c' => out.push_str("\\f"),
        ' '..='~' => out.push(c),
        _ => {
            // Outside printable ASCII: \uXXXX (UTF-16 code units, surrogate pairs above the BMP).
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04X}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_verbatim() {
        assert_eq!(escape_key("log.retention.hours"), "log.retention.hours");
        assert_eq!(
            escape_value(
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"a\";"
            ),
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"a\";"
        );
    }

    #[test]
    fn unescape_reads_back_what_escape_wrote() {
        for v in [
            "/srv/données/kafka",
            "  lead",
            "tab\there",
            "a\\b",
            "emoji 😀 and ü",
            "plain",
        ] {
            assert_eq!(unescape(&escape_value(v)), v, "{v:?}");
        }
        assert_eq!(unescape("donn\\u00E9es"), "données");
        assert_eq!(unescape("\\ud83d\\ude00"), "😀");
    }

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape_key("a=b:c d"), "a\\=b\\:c\\ d");
        assert_eq!(escape_key("#x"), "\\#x");
        assert_eq!(escape_value("  x y"), "\\ \\ x y");
        assert_eq!(escape_value("a\\b\nc"), "a\\\\b\\nc");
        assert_eq!(escape_value("é😀"), "\\u00E9\\uD83D\\uDE00");
    }
}
