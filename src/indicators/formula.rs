//! The arithmetic of an indicator over its components, in exact decimals.
//!
//! A formula is written in the catalogue (`(net_amount - cost_amount) /
//! net_amount`) and parsed once. Evaluation never divides by zero: a zero or
//! missing divisor, or any missing component, makes the whole value missing,
//! which the report shows as n/a. A result beyond the 28 digits exact
//! decimals hold is an `Overflow`, never a value and never n/a.

use rust_decimal::Decimal;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Formula {
    Number(Decimal),
    Name(String),
    Binary(Box<Formula>, Op, Box<Formula>),
    Negate(Box<Formula>),
}

/// A result too large for exact decimals: the operation, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overflow(pub String);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            Op::Add | Op::Sub => 1,
            Op::Mul | Op::Div => 2,
        }
    }
}

/// The formula as it would be written, with only the parentheses it needs.
impl std::fmt::Display for Formula {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let operand =
            |f: &mut std::fmt::Formatter<'_>, child: &Formula, parent: Op, right: bool| {
                let wrap = match child {
                    Formula::Binary(_, op, _) => {
                        op.precedence() < parent.precedence()
                            || (right
                                && op.precedence() == parent.precedence()
                                && matches!(parent, Op::Sub | Op::Div))
                    }
                    _ => false,
                };
                if wrap {
                    write!(f, "({child})")
                } else {
                    write!(f, "{child}")
                }
            };
        match self {
            Formula::Number(n) => write!(f, "{n}"),
            Formula::Name(name) => write!(f, "{name}"),
            Formula::Negate(inner) => match **inner {
                Formula::Binary(..) => write!(f, "-({inner})"),
                _ => write!(f, "-{inner}"),
            },
            Formula::Binary(left, op, right) => {
                operand(f, left, *op, false)?;
                write!(f, " {} ", op.symbol())?;
                operand(f, right, *op, true)
            }
        }
    }
}

impl Formula {
    pub fn parse(text: &str) -> Result<Formula> {
        let tokens = tokenize(text)?;
        if tokens.len() > MAX_PARTS {
            return Err(Error::config(format!(
                "formula `{text}`: {} parts (names, numbers, signs, brackets); at most {MAX_PARTS} are read",
                tokens.len()
            )));
        }
        let mut parser = Parser {
            tokens: &tokens,
            at: 0,
            text,
        };
        let formula = parser.sum()?;
        if parser.at != tokens.len() {
            return Err(parser.error("unexpected text after the end"));
        }
        Ok(formula)
    }

    /// Every name the formula reads.
    pub fn names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        self.collect_names(&mut names);
        names
    }

    fn collect_names<'a>(&'a self, names: &mut Vec<&'a str>) {
        match self {
            Formula::Number(_) => {}
            Formula::Name(name) => names.push(name),
            Formula::Binary(left, _, right) => {
                left.collect_names(names);
                right.collect_names(names);
            }
            Formula::Negate(inner) => inner.collect_names(names),
        }
    }

    /// The value, with `lookup` giving each name's value (`None` when
    /// missing): `None` where a value is missing or a divisor is zero, an
    /// `Overflow` where a result lies beyond exact decimals' 28 digits.
    pub fn eval(
        &self,
        lookup: &dyn Fn(&str) -> Option<Decimal>,
    ) -> std::result::Result<Option<Decimal>, Overflow> {
        Ok(match self {
            Formula::Number(number) => Some(*number),
            Formula::Name(name) => lookup(name),
            Formula::Negate(inner) => inner.eval(lookup)?.map(|value| -value),
            Formula::Binary(left, op, right) => {
                let (Some(left), Some(right)) = (left.eval(lookup)?, right.eval(lookup)?) else {
                    return Ok(None);
                };
                if *op == Op::Div && right.is_zero() {
                    return Ok(None);
                }
                let result = match op {
                    Op::Add => left.checked_add(right),
                    Op::Sub => left.checked_sub(right),
                    Op::Mul => left.checked_mul(right),
                    Op::Div => left.checked_div(right),
                };
                Some(result.ok_or_else(|| Overflow(format!("{left} {} {right}", op.symbol())))?)
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(Decimal),
    Name(String),
    Symbol(char),
}

fn tokenize(text: &str) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let literal: String = chars[start..i].iter().collect();
            let number = literal.parse::<Decimal>().map_err(|_| {
                Error::config(format!("formula `{text}`: `{literal}` is not a number"))
            })?;
            tokens.push(Token::Number(number));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Name(chars[start..i].iter().collect()));
        } else if "+-*/()".contains(c) {
            tokens.push(Token::Symbol(c));
            i += 1;
        } else {
            return Err(Error::config(format!(
                "formula `{text}`: unexpected character `{c}`"
            )));
        }
    }
    Ok(tokens)
}

/// The most parts a formula may have: far beyond any indicator's, and a
/// bound on how deep its brackets and signs nest (the parser and the tree
/// recurse once per level; deep nesting would exhaust a thread's stack).
const MAX_PARTS: usize = 256;

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> Error {
        Error::config(format!("formula `{}`: {message}", self.text))
    }

    fn peek_symbol(&self) -> Option<char> {
        match self.tokens.get(self.at) {
            Some(Token::Symbol(c)) => Some(*c),
            _ => None,
        }
    }

    fn sum(&mut self) -> Result<Formula> {
        let mut left = self.product()?;
        while let Some(c @ ('+' | '-')) = self.peek_symbol() {
            self.at += 1;
            let right = self.product()?;
            let op = if c == '+' { Op::Add } else { Op::Sub };
            left = Formula::Binary(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Formula> {
        let mut left = self.atom()?;
        while let Some(c @ ('*' | '/')) = self.peek_symbol() {
            self.at += 1;
            let right = self.atom()?;
            let op = if c == '*' { Op::Mul } else { Op::Div };
            left = Formula::Binary(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Formula> {
        let token = self
            .tokens
            .get(self.at)
            .cloned()
            .ok_or_else(|| self.error("ends too early"))?;
        self.at += 1;
        match token {
            Token::Number(number) => Ok(Formula::Number(number)),
            Token::Name(name) => Ok(Formula::Name(name)),
            Token::Symbol('-') => Ok(Formula::Negate(Box::new(self.atom()?))),
            Token::Symbol('(') => {
                let inner = self.sum()?;
                if self.peek_symbol() != Some(')') {
                    return Err(self.error("a `(` is not closed"));
                }
                self.at += 1;
                Ok(inner)
            }
            Token::Symbol(c) => Err(self.error(&format!("unexpected `{c}`"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_prints_as_written_with_the_parentheses_it_needs() {
        for text in [
            "(net_amount - cost_amount) / net_amount",
            "days / (cogs / (inventory_value_sum / snapshots))",
            "a - (b - c)",
            "a - b - c",
            "-(a + b) * 2",
        ] {
            assert_eq!(Formula::parse(text).unwrap().to_string(), text);
        }
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn eval(text: &str, values: &[(&str, Decimal)]) -> Option<Decimal> {
        eval_exact(text, values).expect("no overflow")
    }

    fn eval_exact(
        text: &str,
        values: &[(&str, Decimal)],
    ) -> std::result::Result<Option<Decimal>, Overflow> {
        let formula = Formula::parse(text).unwrap();
        formula.eval(&|name| values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
    }

    #[test]
    fn precedence_and_parentheses() {
        // (100 - 60) / 100 = 0.4; 100 - 60 / 100 = 99.4
        let values = [("net", dec("100")), ("cost", dec("60"))];
        assert_eq!(eval("(net - cost) / net", &values), Some(dec("0.4")));
        assert_eq!(eval("net - cost / net", &values), Some(dec("99.4")));
        assert_eq!(eval("-cost * 2 + 1", &values), Some(dec("-119")));
    }

    #[test]
    fn zero_divisor_and_missing_names_give_nothing() {
        assert_eq!(eval("a / b", &[("a", dec("1")), ("b", dec("0"))]), None);
        assert_eq!(eval("a + b", &[("a", dec("1"))]), None);
    }

    #[test]
    fn an_overflow_is_said_not_read_as_missing() {
        let big = Decimal::MAX;
        let overflow = eval_exact("a * b", &[("a", big), ("b", dec("10"))]).unwrap_err();
        assert_eq!(overflow.0, format!("{big} * 10"));
        assert!(eval_exact("a + a", &[("a", big)]).is_err());
        // Missing and a zero divisor are still just missing.
        assert_eq!(eval_exact("a * b", &[("a", big)]), Ok(None));
        assert_eq!(
            eval_exact("a / b", &[("a", big), ("b", dec("0"))]),
            Ok(None)
        );
    }

    #[test]
    fn decimals_stay_exact() {
        // 0.1 + 0.2 is exactly 0.3 in decimal arithmetic.
        assert_eq!(
            eval("a + b", &[("a", dec("0.1")), ("b", dec("0.2"))]),
            Some(dec("0.3"))
        );
    }

    #[test]
    fn malformed_formulas_are_refused() {
        for bad in ["(a + b", "a +", "a $ b", "a b"] {
            assert!(Formula::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Formula::parse("x * (y - z)").unwrap().names(),
            ["x", "y", "z"]
        );
    }

    /// Found by libFuzzer (the `formulas` target): brackets and signs
    /// nested thousands deep overflowed a test thread's stack. Refused now,
    /// in a thread with a small stack; 256 parts still parse and evaluate.
    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let deep = format!("{}a{}", "(-".repeat(5_000), ")".repeat(5_000));
                let error = Formula::parse(&deep).unwrap_err().to_string();
                assert!(error.contains("at most 256"), "{error}");
                let chain = vec!["a"; 128].join("+");
                assert_eq!(eval(&chain, &[("a", dec("0.5"))]), Some(dec("64")));
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
