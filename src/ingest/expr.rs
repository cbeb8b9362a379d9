//! Column expressions of a source: `+`, `-`, `*`, unary minus and brackets
//! over the file's numeric columns and decimal constants, such as
//! `cost_amount = "銷售金額 - 毛利"`. Nothing else: no functions, no
//! division (its result would need rounding, and only output rounds), and
//! nothing outside the row. A name with spaces or operators is quoted in
//! backticks. The parsed expression becomes SQL that names only generated
//! column identifiers and decimal literals written by us, never the text.

use rust_decimal::Decimal;

/// A parsed expression; column references are indexes of the file's columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Column(usize),
    Number(Decimal),
    Negate(Box<Expr>),
    Binary(Box<Expr>, char, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Number(Decimal),
    Op(char),
    Open,
    Close,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '+' | '-' | '*' => {
                out.push(Token::Op(c));
                chars.next();
            }
            '/' => return Err("division is not supported: its result would need rounding".into()),
            '(' | '（' => {
                out.push(Token::Open);
                chars.next();
            }
            ')' | '）' => {
                out.push(Token::Close);
                chars.next();
            }
            '`' => {
                chars.next();
                let name: String = chars.by_ref().take_while(|c| *c != '`').collect();
                if name.is_empty() {
                    return Err("an empty quoted name".into());
                }
                out.push(Token::Name(name));
            }
            c if c.is_ascii_digit() || c == '.' => {
                let mut number = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_digit() || c == '.' {
                        number.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let value: Decimal = number
                    .parse()
                    .map_err(|_| format!("`{number}` is not a number"))?;
                out.push(Token::Number(value));
            }
            _ => {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace()
                        || matches!(c, '+' | '-' | '*' | '/' | '(' | ')' | '（' | '）' | '`')
                    {
                        break;
                    }
                    name.push(c);
                    chars.next();
                }
                out.push(Token::Name(name));
            }
        }
    }
    Ok(out)
}

/// The most parts an expression may have: far beyond any column's formula,
/// and a bound on how deep its brackets and signs nest (the parser and the
/// tree recurse once per level; deep nesting would exhaust a thread's stack).
const MAX_PARTS: usize = 256;

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    headers: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    // sum := product (('+' | '-') product)*
    fn sum(&mut self) -> Result<Expr, String> {
        let mut left = self.product()?;
        while let Some(Token::Op(op @ ('+' | '-'))) = self.peek().cloned() {
            self.next();
            left = Expr::Binary(Box::new(left), op, Box::new(self.product()?));
        }
        Ok(left)
    }

    // product := unary ('*' unary)*
    fn product(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while let Some(Token::Op('*')) = self.peek() {
            self.next();
            left = Expr::Binary(Box::new(left), '*', Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Op('-')) => Ok(Expr::Negate(Box::new(self.unary()?))),
            Some(Token::Op('+')) => self.unary(),
            Some(Token::Number(value)) => Ok(Expr::Number(value)),
            Some(Token::Name(name)) => {
                let exact = self.headers.iter().position(|h| h.trim() == name);
                let folded = || {
                    let wanted = super::values::fold(&name);
                    self.headers
                        .iter()
                        .position(|h| super::values::fold(h) == wanted)
                };
                exact
                    .or_else(folded)
                    .map(Expr::Column)
                    .ok_or_else(|| format!("the file has no column `{name}`"))
            }
            Some(Token::Open) => {
                let inner = self.sum()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("a bracket is not closed".into()),
                }
            }
            Some(Token::Close) => Err("a closing bracket without an opening one".into()),
            Some(Token::Op(op)) => Err(format!("`{op}` where a value should be")),
            None => Err("the expression ends where a value should be".into()),
        }
    }
}

impl Expr {
    /// Parses `text` against the file's column names.
    pub fn parse(text: &str, headers: &[String]) -> Result<Expr, String> {
        let tokens = tokens(text)?;
        if tokens.len() > MAX_PARTS {
            return Err(format!(
                "the expression has {} parts (names, numbers, signs, brackets); at most {MAX_PARTS} are read",
                tokens.len()
            ));
        }
        let mut parser = Parser {
            tokens,
            at: 0,
            headers,
        };
        let expr = parser.sum()?;
        match parser.peek() {
            None => Ok(expr),
            Some(token) => Err(format!("unexpected {token:?} after a complete expression")),
        }
    }

    /// The file columns the expression reads.
    pub fn columns(&self) -> Vec<usize> {
        match self {
            Expr::Column(i) => vec![*i],
            Expr::Number(_) => vec![],
            Expr::Negate(inner) => inner.columns(),
            Expr::Binary(left, _, right) => {
                let mut columns = left.columns();
                columns.extend(right.columns());
                columns
            }
        }
    }

    /// SQL over exact decimals, `column` giving each file column's value.
    pub fn to_sql(&self, column: &dyn Fn(usize) -> String) -> String {
        match self {
            Expr::Column(i) => column(*i),
            // Written from the parsed Decimal, not from the user's text.
            Expr::Number(value) => format!("CAST('{value}' AS DECIMAL(38,18))"),
            Expr::Negate(inner) => format!("(-{})", inner.to_sql(column)),
            Expr::Binary(left, op, right) => {
                format!("({} {op} {})", left.to_sql(column), right.to_sql(column))
            }
        }
    }

    /// The expression as the dry run shows it.
    pub fn display(&self, headers: &[String]) -> String {
        match self {
            Expr::Column(i) => headers[*i].clone(),
            Expr::Number(value) => value.to_string(),
            Expr::Negate(inner) => format!("-{}", inner.display(headers)),
            Expr::Binary(left, op, right) => {
                format!(
                    "({} {op} {})",
                    left.display(headers),
                    right.display(headers)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> Vec<String> {
        ["銷售金額", "毛利", "Unit Price", "Qty"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn arithmetic_over_columns() {
        let expr = Expr::parse("銷售金額 - 毛利", &headers()).unwrap();
        assert_eq!(expr.to_sql(&|i| format!("c{i}")), "(c0 - c1)");
        let expr = Expr::parse("`Unit Price` * qty * (1 - 0.05)", &headers()).unwrap();
        assert_eq!(
            expr.to_sql(&|i| format!("c{i}")),
            "((c2 * c3) * (CAST('1' AS DECIMAL(38,18)) - CAST('0.05' AS DECIMAL(38,18))))"
        );
        assert_eq!(expr.columns(), vec![2, 3]);
        assert_eq!(
            Expr::parse("-毛利", &headers())
                .unwrap()
                .to_sql(&|i| format!("c{i}")),
            "(-c1)"
        );
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        let error = |text| Expr::parse(text, &headers()).unwrap_err();
        assert!(error("銷售金額 / 2").contains("division"));
        assert!(error("銷售金額 - 折扣").contains("no column `折扣`"));
        assert!(error("(銷售金額 - 毛利").contains("not closed"));
        assert!(error("銷售金額 -").contains("ends"));
        assert!(error("銷售金額 毛利").contains("unexpected"));
        assert!(error("'; drop table sales; --").contains("no column"));
    }

    /// Found by libFuzzer (the `expressions` target): brackets and signs
    /// nested thousands deep overflowed a test thread's stack.
    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let deep = format!("{}銷售金額{}", "(-".repeat(5_000), ")".repeat(5_000));
                let error = Expr::parse(&deep, &headers()).unwrap_err();
                assert!(error.contains("at most 256"), "{error}");
                assert!(Expr::parse(&vec!["銷售金額"; 128].join("+"), &headers()).is_ok());
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
