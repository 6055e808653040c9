//! CSV as our exports write it and the directory import reads it (RFC 4180 quoting). A
//! value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or CR first) is
//! written with a leading `'`, which the reader takes off again, so a file round-trips.

fn is_guarded(value: &str) -> bool {
    matches!(value.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

/// Appends one field: quoted when it holds a separator, a quote, a line break or a space at
/// either end; a formula defused.
pub fn field(out: &mut String, value: &str) {
    let guarded = is_guarded(value);
    let needs_quotes = guarded || value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ');
    if needs_quotes {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    out.push_str(&value.replace('"', "\"\""));
    if needs_quotes {
        out.push('"');
    }
}

/// Splits one record into its fields, each with the formula guard of [`field`] taken off.
pub fn record(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut value = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                value.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => value.push(c),
            (false, '"') if value.is_empty() => quoted = true,
            (false, ',') => fields.push(unguard(std::mem::take(&mut value))),
            (false, c) => value.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    fields.push(unguard(value));
    Ok(fields)
}

fn unguard(value: String) -> String {
    match value.strip_prefix('\'') {
        Some(rest) if is_guarded(rest) => rest.to_owned(),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_when_needed_and_formulas_are_defused() {
        let mut out = String::new();
        for v in ["plain", "a,b", "say \"hi\"", "=HYPERLINK(\"x\")", "line\nbreak"] {
            field(&mut out, v);
            out.push('|');
        }
        assert_eq!(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"'=HYPERLINK(\"\"x\"\")\"|\"line\nbreak\"|");
    }

    #[test]
    fn a_record_keeps_quoted_commas_and_quotes_and_round_trips_guarded_values() {
        assert_eq!(record(r#"ops/db,,"Payments, prod","#).unwrap(), ["ops/db", "", "Payments, prod", ""]);
        assert_eq!(record(r#"a,"say ""hi""",b,c"#).unwrap(), ["a", "say \"hi\"", "b", "c"]);
        assert!(record(r#"a,"open"#).is_err());
        let values = ["-ops", "@team", "=1+2@example.com", "'quoted", " padded "];
        let mut line = String::new();
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            field(&mut line, v);
        }
        assert_eq!(record(&line).unwrap(), values);
    }
}
