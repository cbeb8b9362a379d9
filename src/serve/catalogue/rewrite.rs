//! PostgreSQL's spellings that DuckDB reads differently, rewritten token by
//! token (never inside a string literal or a quoted name, except where the
//! literal itself is the PostgreSQL-only part):
//!
//! - `pg_catalog.x` → `x` (our relations and functions shadow DuckDB's);
//!   `information_schema.x` → `information_schema_x` (ours, see `mod.rs`);
//! - `'pg_class'::regclass` → the relation's oid, `x::regclass`,
//!   `'int4'::regtype`, `'array_in'::regproc` → the oid; a name's
//!   `c.oid::regclass`, `::regtype`, `::regproc` → the name; `::name`,
//!   `::"char"` → text; `'{a,b}'::text[]` and `ANY ('{a,b}')` → a DuckDB
//!   list;
//! - `COLLATE pg_catalog.default` → nothing;
//!   `OPERATOR(pg_catalog.~)` → `~`;
//! - `x ~ 'pattern'` (PostgreSQL: the pattern is found anywhere) → the
//!   same with DuckDB's `~`, which must match the whole text: the pattern
//!   is wrapped in `.*(?:…).*`; `~*` ignores case.

/// One token of a query: what it is and its exact text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Space(String),
    Word(String),
    /// `"…"`, with its quotes.
    Quoted(String),
    /// `'…'`, with its quotes.
    Literal(String),
    Op(String),
    Other(String),
}

impl Token {
    pub fn text(&self) -> &str {
        match self {
            Token::Space(t)
            | Token::Word(t)
            | Token::Quoted(t)
            | Token::Literal(t)
            | Token::Op(t)
            | Token::Other(t) => t,
        }
    }

    /// A name, written plainly or quoted, in lower case for a plain one.
    pub fn name(&self) -> Option<String> {
        match self {
            Token::Word(w) => Some(w.to_ascii_lowercase()),
            Token::Quoted(q) => Some(q[1..q.len() - 1].replace("\"\"", "\"")),
            _ => None,
        }
    }

    /// A string literal's value.
    pub fn value(&self) -> Option<String> {
        match self {
            Token::Literal(l) => Some(l[1..l.len() - 1].replace("''", "'")),
            _ => None,
        }
    }
}

const OPERATOR_CHARS: &str = "+-*/<>=~!@#%^&|`?";

/// Splits `sql` into tokens; joining their texts gives `sql` back.
pub fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let take = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            out.push(Token::Space(take(start, i)));
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            out.push(Token::Space(take(start, i)));
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i = (i + 2).min(chars.len());
            out.push(Token::Space(take(start, i)));
        } else if c == '\'' || c == '"' {
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            let text = take(start, i);
            let closed = text.len() >= 2 && text.ends_with(c);
            out.push(match (c, closed) {
                ('\'', true) => Token::Literal(text),
                ('"', true) => Token::Quoted(text),
                _ => Token::Other(text),
            });
        } else if c.is_alphanumeric() || c == '_' {
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            out.push(Token::Word(take(start, i)));
        } else if c == '$'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_alphanumeric() || *n == '_')
        {
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Other(take(start, i)));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            i += 2;
            out.push(Token::Other("::".into()));
        } else if OPERATOR_CHARS.contains(c) {
            while i < chars.len()
                && OPERATOR_CHARS.contains(chars[i])
                && !(chars[i] == '-' && chars.get(i + 1) == Some(&'-'))
            {
                i += 1;
            }
            out.push(Token::Op(take(start, i)));
        } else {
            i += 1;
            out.push(Token::Other(take(start, i)));
        }
    }
    out
}

/// The names a query holds (plain ones in lower case), for deciding what a
/// door needs set up.
pub fn names(sql: &str) -> Vec<String> {
    tokens(sql).iter().filter_map(Token::name).collect()
}

/// A string literal with `value`.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The oid of a relation named in a `'…'::regclass` literal: ours (by
/// name, from `pg_class`) or one of PostgreSQL's own catalogues.
fn regclass(name: &str) -> String {
    let bare = name.trim_matches('"');
    let bare = bare.strip_prefix("pg_catalog.").unwrap_or(bare);
    let bare = bare.strip_prefix("main.").unwrap_or(bare);
    let known = match bare {
        "pg_type" => Some(1247),
        "pg_attribute" => Some(1249),
        "pg_proc" => Some(1255),
        "pg_class" => Some(1259),
        "pg_database" => Some(1262),
        "pg_constraint" => Some(2606),
        "pg_description" => Some(2609),
        "pg_index" => Some(2610),
        "pg_namespace" => Some(2615),
        "pg_trigger" => Some(2620),
        _ => None,
    };
    match known {
        Some(oid) => oid.to_string(),
        None => format!(
            "coalesce((SELECT oid FROM pg_class WHERE relname = {}), 0)",
            literal(bare)
        ),
    }
}

/// Next token that is not a space, from `i`.
fn next(tokens: &[Token], mut i: usize) -> Option<usize> {
    while i < tokens.len() {
        if !matches!(tokens[i], Token::Space(_)) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The tokens with what only changes names taken out: `pg_catalog.`
/// qualifiers, `COLLATE x[.y]`, and `OPERATOR(pg_catalog.op)` made `op`.
fn normalize(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        let after = next(&tokens, i + 1);
        let dot_then = |at: Option<usize>| {
            at.filter(|&d| tokens[d].text() == ".")
                .and_then(|d| next(&tokens, d + 1))
        };
        let word = |w: &str| matches!(token, Token::Word(t) if t.eq_ignore_ascii_case(w));
        if token.name().as_deref() == Some("pg_catalog") {
            if let Some(target) = dot_then(after) {
                i = target;
                continue;
            }
        }
        if word("collate") {
            if let Some(a) = after.filter(|&a| tokens[a].name().is_some()) {
                let end = dot_then(next(&tokens, a + 1))
                    .filter(|&b| tokens[b].name().is_some())
                    .unwrap_or(a);
                i = end + 1;
                continue;
            }
        }
        if word("operator") {
            if let Some(open) = after.filter(|&a| tokens[a].text() == "(") {
                let close = (open..tokens.len()).find(|&j| tokens[j].text() == ")");
                let op = close.and_then(|close| {
                    tokens[open..close].iter().rev().find_map(|t| match t {
                        Token::Op(op) => Some(op.clone()),
                        _ => None,
                    })
                });
                if let (Some(op), Some(close)) = (op, close) {
                    out.push(Token::Space(" ".into()));
                    out.push(Token::Op(op));
                    out.push(Token::Space(" ".into()));
                    i = close + 1;
                    continue;
                }
            }
        }
        out.push(token.clone());
        i += 1;
    }
    out
}

/// The start of the name chain (`a`, `a.b`, `"a".b`) that ends at `end`.
fn chain_start(out: &[String], end: usize) -> Option<usize> {
    let is_name = |t: &str| {
        let t = t.trim();
        !t.is_empty()
            && (t.starts_with('"') || t.chars().all(|c| c.is_alphanumeric() || c == '_'))
            && !t.chars().next().is_some_and(|c| c.is_ascii_digit())
    };
    if !is_name(&out[end]) {
        return None;
    }
    let mut start = end;
    while start >= 2 && out[start - 1] == "." && is_name(&out[start - 2]) {
        start -= 2;
    }
    Some(start)
}

/// `sql` with PostgreSQL's spellings made DuckDB's (see the module's
/// comment); spaces and comments become single spaces.
pub fn rewrite(sql: &str) -> String {
    let tokens = normalize(tokens(sql));
    // Spaces are dropped from `out` as they come (and put back as one
    // space) so that what came before is at hand for `x::regtype`.
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if let Token::Space(_) = token {
            out.push(" ".into());
            i += 1;
            continue;
        }
        let after = next(&tokens, i + 1);
        let last = out.iter().rposition(|t| t != " ");
        // information_schema.x → information_schema_x
        if token.name().as_deref() == Some("information_schema") {
            let target = after
                .filter(|&d| tokens[d].text() == ".")
                .and_then(|d| next(&tokens, d + 1));
            if let Some((target, view)) = target.and_then(|t| tokens[t].name().map(|v| (t, v))) {
                out.push(format!("information_schema_{view}"));
                i = target + 1;
                continue;
            }
        }
        // x ~ 'pattern' (found anywhere) → DuckDB's whole-text match
        if let Token::Op(op) = token {
            let regex = matches!(op.as_str(), "~" | "!~" | "~*" | "!~*");
            if let (true, Some(pattern)) = (regex, after.and_then(|a| tokens[a].value())) {
                let flags = if op.ends_with('*') { "(?is)" } else { "(?s)" };
                let op = op.trim_end_matches('*');
                out.push(format!(
                    "{op} {}",
                    literal(&format!("{flags}.*(?:{pattern}).*"))
                ));
                i = after.unwrap_or(i) + 1;
                continue;
            }
        }
        if let Some(value) = token.value() {
            if let Some((replaced, end)) = literal_rewrite(&tokens, i, &value, &out, last) {
                out.push(replaced);
                i = end;
                continue;
            }
        }
        if token.text() == "::" {
            if let Some(end) = cast_rewrite(&tokens, i, &mut out, last) {
                i = end;
                continue;
            }
        }
        out.push(token.text().to_string());
        i += 1;
    }
    out.concat()
}

/// A string literal at `i` written in PostgreSQL's way — `ANY ('{a,b}')`,
/// `'pg_class'::regclass`, `'{a,b}'::text[]` — as DuckDB's, and the index
/// after what it replaces.
fn literal_rewrite(
    tokens: &[Token],
    i: usize,
    value: &str,
    out: &[String],
    last: Option<usize>,
) -> Option<(String, usize)> {
    let array = value.starts_with('{') && value.ends_with('}');
    // ANY ('{a,b}') → ANY (['a', 'b'])
    let in_any = last.filter(|&l| out[l] == "(").and_then(|l| {
        out[..l]
            .iter()
            .rposition(|t| t != " ")
            .map(|w| out[w].eq_ignore_ascii_case("any") || out[w].eq_ignore_ascii_case("all"))
    });
    if in_any == Some(true) && array {
        let items: Vec<String> = value[1..value.len() - 1]
            .split(',')
            .map(|item| literal(item.trim().trim_matches('"')))
            .collect();
        return Some((format!("[{}]", items.join(", ")), i + 1));
    }
    let (ty, end) = cast_after(tokens, i)?;
    let bare = value.strip_prefix("pg_catalog.").unwrap_or(value);
    let oid_of = |table: &str, column: &str| {
        format!(
            "coalesce((SELECT oid FROM {table} WHERE {column} = {}), 0)",
            literal(bare)
        )
    };
    let replaced = match ty.as_str() {
        "regclass" => regclass(value),
        "regnamespace" => oid_of("pg_namespace", "nspname"),
        "regtype" => oid_of("pg_type", "typname"),
        "regproc" | "regprocedure" => oid_of("pg_proc", "proname"),
        _ if ty.ends_with("[]") && array => format!(
            "{}::VARCHAR[]",
            literal(&format!("[{}]", &value[1..value.len() - 1]))
        ),
        _ => return None,
    };
    Some((replaced, end))
}

/// `expression::type` at the `::` at `i`: a name chain's `::regclass`
/// (and `::regtype::text`) shown as the name, other PostgreSQL-only types
/// cast to DuckDB's; the index after the cast.
fn cast_rewrite(
    tokens: &[Token],
    i: usize,
    out: &mut Vec<String>,
    last: Option<usize>,
) -> Option<usize> {
    let (ty, end) = i.checked_sub(1).and_then(|p| cast_after(tokens, p))?;
    // (a type compared with a type stays an oid: only one cast on to text
    // shows its name)
    let to_text = next(tokens, end).is_some_and(|n| tokens[n].text() == "::");
    let shown = match ty.as_str() {
        "regclass" => Some("pg_opskpi_relation_name"),
        "regtype" if to_text => Some("pg_opskpi_type_name"),
        "regnamespace" => Some("pg_opskpi_namespace_name"),
        "regproc" => Some("pg_opskpi_proc_name"),
        _ => None,
    };
    if let (Some(function), Some(last)) = (shown, last) {
        if let Some(start) = chain_start(out, last) {
            let chain = out[start..=last].concat();
            out.truncate(start);
            out.push(format!("{function}({chain})"));
            return Some(end);
        }
    }
    let to = match ty.as_str() {
        "regclass" | "regnamespace" | "regtype" | "regrole" | "oid" => "::BIGINT",
        "regclass[]" | "regtype[]" | "oid[]" | "oidvector" => "::BIGINT[]",
        "regproc" | "regprocedure" | "name" | "char" | "text" => "::VARCHAR",
        "name[]" | "text[]" | "char[]" => "::VARCHAR[]",
        _ => return None,
    };
    out.push(to.to_string());
    Some(end)
}

/// After the token at `at`: `::[pg_catalog.]type[[]]` — the type's name
/// (with `[]` for an array) and the index after it.
fn cast_after(tokens: &[Token], at: usize) -> Option<(String, usize)> {
    let colons = next(tokens, at + 1).filter(|&c| tokens[c].text() == "::")?;
    let mut ty = next(tokens, colons + 1)?;
    if tokens[ty].name().as_deref() == Some("pg_catalog") {
        let dot = next(tokens, ty + 1).filter(|&d| tokens[d].text() == ".")?;
        ty = next(tokens, dot + 1)?;
    }
    let name = tokens[ty].name()?;
    let open = next(tokens, ty + 1).filter(|&o| tokens[o].text() == "[");
    if let Some(close) = open
        .and_then(|o| next(tokens, o + 1))
        .filter(|&c| tokens[c].text() == "]")
    {
        return Some((format!("{name}[]"), close + 1));
    }
    Some((name, ty + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_give_the_text_back() {
        let sql = "SELECT 'it''s', \"Odd \"\"name\"\"\", x::text -- note\n/* c */ FROM t WHERE a ~ '^pg_' AND $1 = 2";
        let joined: String = tokens(sql).iter().map(Token::text).collect();
        assert_eq!(joined, sql);
    }

    #[test]
    fn postgres_spellings_become_duckdb_ones() {
        let cases = [
            ("SELECT * FROM pg_catalog.pg_class c", "SELECT * FROM pg_class c"),
            ("SELECT * FROM \"pg_catalog\".\"pg_class\"", "SELECT * FROM \"pg_class\""),
            ("SELECT * FROM information_schema.tables", "SELECT * FROM information_schema_tables"),
            (
                "WHERE d.classoid = 'pg_class'::regclass",
                "WHERE d.classoid = 1259",
            ),
            (
                "WHERE c.relname OPERATOR(pg_catalog.~) '^(sales)$' COLLATE pg_catalog.default",
                "WHERE c.relname  ~ '(?s).*(?:^(sales)$).*' ",
            ),
            ("n.nspname !~ '^pg_'", "n.nspname !~ '(?s).*(?:^pg_).*'"),
            (
                "typinput='pg_catalog.array_in'::regproc",
                "typinput=coalesce((SELECT oid FROM pg_proc WHERE proname = 'array_in'), 0)",
            ),
            ("c.oid::pg_catalog.regclass", "pg_opskpi_relation_name(c.oid)"),
            ("att.atttypid::regtype::text t", "pg_opskpi_type_name(att.atttypid)::VARCHAR t"),
            (
                "p.prorettype::regtype != 'trigger'::regtype",
                "p.prorettype::BIGINT != coalesce((SELECT oid FROM pg_type WHERE typname = 'trigger'), 0)",
            ),
            ("c.relkind = ANY('{r,p,f}')", "c.relkind = ANY(['r', 'p', 'f'])"),
            ("(c.relkind)::regclass", "(c.relkind)::BIGINT"),
            ("word <> ALL ('{a,abs}'::text[])", "word <> ALL (['a', 'abs']::VARCHAR[])"),
            ("SELECT '{a,b}'::text[]", "SELECT '[a,b]'::VARCHAR[]"),
            ("x::name", "x::VARCHAR"),
            // nothing of PostgreSQL's: unchanged, strings untouched
            (
                "SELECT 'pg_catalog.x', \"collate\" FROM sales WHERE a = 'COLLATE'",
                "SELECT 'pg_catalog.x', \"collate\" FROM sales WHERE a = 'COLLATE'",
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(rewrite(sql), want, "{sql}");
        }
    }
}
