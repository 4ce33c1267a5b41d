//! A learner's expression as they type it, parsed into the derivations' expression trees.
//!
//! ```text
//! claim   := sum                       "(y - z)/(z*(1 - z))", "Σₓ (a − y)·xⱼ / n"
//! sum     := product (('+' | '-' | '−') product)*
//! product := unary (('*' | '·' | '×' | '/' | implicit) unary)*      2(a - y)x_j
//! unary   := ('-' | '−' | '+') unary | 'Σ' [index] product | power
//! power   := postfix ['^' unary]          e^z is exp(z); an integer power is uⁿ
//! postfix := primary ['²' | '³']
//! primary := number | name [subscript] | function ['′' | "'"] '(' sum ')' | '(' sum ')' | '[' sum ']'
//! ```
//! Names: y, z, a, b, x, w, n (examples), e; subscripts `_j`, `j`, `ⱼ`, `ᵢⱼ`, `_ij`, `_k`.
//! Functions: sigma/σ/sigmoid, relu, tanh, softplus, exp, ln/log, sqrt, sum; a prime (σ′(z),
//! relu'(z)) is the slope. `Σ`/`sum` without an index sums over the examples; with k (Σₖ,
//! sum_k) over the output units.

use super::super::expr::build::*;
use super::super::expr::{Expr, Index, Symbol, Var};
use crate::activation::Activation;

/// Where parsing stopped and why: a column (in characters, from 0) and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The column of the offending character.
    pub column: usize,
    /// What was expected.
    pub message: String,
}

impl ParseError {
    /// The message with the expression and a caret under the column.
    pub fn pointing_into(&self, text: &str) -> String {
        format!(
            "cannot read the expression: {}\n  {text}\n  {}^",
            self.message,
            " ".repeat(self.column)
        )
    }
}

/// The most characters a claim may have.
pub const MAX_CLAIM_CHARS: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    Op(char),
    /// A Σ, with the index it runs over (None: the examples).
    Sigma(Option<Index>),
    /// A prime after a function name.
    Prime,
    /// A postfix power (², ³).
    Power(i32),
}

fn subscript_letter(c: char) -> Option<char> {
    match c {
        'ⱼ' => Some('j'),
        'ᵢ' => Some('i'),
        'ₖ' => Some('k'),
        'ₘ' => Some('m'),
        'ₓ' => Some('x'),
        _ => None,
    }
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() > MAX_CLAIM_CHARS {
        return Err(ParseError {
            column: MAX_CLAIM_CHARS,
            message: format!("longer than {MAX_CLAIM_CHARS} characters"),
        });
    }
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let literal: String = chars[start..i].iter().collect();
            let value = literal.parse::<f64>().map_err(|_| ParseError {
                column: start,
                message: format!("'{literal}' is not a number"),
            })?;
            if !value.is_finite() {
                return Err(ParseError {
                    column: start,
                    message: format!(
                        "a number of {} digits is beyond f64's range (about 1.8e308)",
                        literal.len()
                    ),
                });
            }
            tokens.push((start, Token::Number(value)));
            continue;
        }
        if c.is_alphabetic() && subscript_letter(c).is_none() && c != 'Σ' {
            while i < chars.len()
                // Letters, ASCII digits and _: a superscript such as ² is a power, not part of
                // the name (is_alphanumeric counts it as a digit).
                && (chars[i].is_alphabetic() || chars[i].is_ascii_digit() || chars[i] == '_')
                && chars[i] != 'Σ'
            {
                i += 1;
            }
            let name: String = chars[start..i]
                .iter()
                .map(|&c| subscript_letter(c).unwrap_or(c))
                .filter(|&c| c != '_')
                .collect();
            tokens.push((start, Token::Name(name)));
            continue;
        }
        if let Some(letter) = subscript_letter(c) {
            // A subscript after something that is not a name: Σₓ, Σₖ are read with Σ below.
            return Err(ParseError {
                column: start,
                message: format!("a subscript {letter} here belongs to nothing"),
            });
        }
        i += 1;
        let token = match c {
            'Σ' | '∑' => {
                // Σ, Σₓ, Σ_x, Σₖ, Σ_k.
                let mut index = None;
                let letter = match chars.get(i) {
                    Some('_') => {
                        i += 1;
                        chars.get(i).copied()
                    }
                    Some(&c) => subscript_letter(c),
                    None => None,
                };
                match letter {
                    Some('x') => i += 1,
                    Some('k') => {
                        i += 1;
                        index = Some(Index::K);
                    }
                    Some('m') => {
                        i += 1;
                        index = Some(Index::M);
                    }
                    _ => {}
                }
                Token::Sigma(index)
            }
            '′' | '\'' => Token::Prime,
            '²' => Token::Power(2),
            '³' => Token::Power(3),
            '−' | '-' => Token::Op('-'),
            '·' | '×' | '*' => Token::Op('*'),
            '+' | '/' | '^' | '(' | ')' | '[' | ']' | ',' => Token::Op(c),
            other => {
                return Err(ParseError {
                    column: start,
                    message: format!("'{other}' is not part of an expression nabla reads"),
                });
            }
        };
        tokens.push((start, token));
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    position: usize,
    end: usize,
    depth: usize,
    /// Σ open around the current position.
    sums: usize,
}

/// How deep parentheses and prefixes may nest.
const MAX_DEPTH: usize = 64;

/// How many Σ may stand inside each other. Each nested Σ multiplies the cost of evaluating
/// the claim by the examples or the output units it runs over; a derivative a learner writes
/// needs one.
const MAX_NESTED_SUMS: usize = 2;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position).map(|(_, t)| t)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.position).map_or(self.end, |(c, _)| *c)
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            column: self.column(),
            message: message.into(),
        })
    }

    fn eat(&mut self, op: char) -> bool {
        if self.peek() == Some(&Token::Op(op)) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(format!("nested more than {MAX_DEPTH} deep"));
        }
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// `f` parsing the body of a Σ (refused past [`MAX_NESTED_SUMS`], at the Σ).
    fn inside_sum(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Expr, ParseError>,
    ) -> Result<Expr, ParseError> {
        if self.sums == MAX_NESTED_SUMS {
            return self.fail(format!(
                "a sum inside {MAX_NESTED_SUMS} others: nabla reads at most {MAX_NESTED_SUMS} \
                 sums nested in each other"
            ));
        }
        self.sums += 1;
        let body = f(self);
        self.sums -= 1;
        body
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        self.nested(|p| {
            let mut terms = vec![p.product()?];
            loop {
                if p.eat('+') {
                    terms.push(p.product()?);
                } else if p.eat('-') {
                    terms.push(neg(p.product()?));
                } else {
                    break;
                }
            }
            Ok(if terms.len() == 1 {
                terms.remove(0)
            } else {
                add(terms)
            })
        })
    }

    /// Whether the next token can start a factor (for implicit multiplication).
    fn starts_factor(&self) -> bool {
        matches!(
            self.peek(),
            Some(Token::Number(_) | Token::Name(_) | Token::Sigma(_) | Token::Op('(' | '['))
        )
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut value = self.unary()?;
        loop {
            if self.eat('*') {
                value = mul(vec![value, self.unary()?]);
            } else if self.eat('/') {
                value = div(value, self.unary()?);
            } else if self.starts_factor() {
                value = mul(vec![value, self.unary()?]);
            } else {
                return Ok(value);
            }
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        self.nested(|p| {
            if p.eat('-') {
                return Ok(neg(p.unary()?));
            }
            if p.eat('+') {
                return p.unary();
            }
            if let Some(Token::Sigma(index)) = p.peek().cloned() {
                let body = p.inside_sum(|p| {
                    p.position += 1;
                    p.product()
                })?;
                return Ok(match index {
                    None => mul(vec![var(Symbol::N), mean(body)]),
                    Some(index) => sum(index, body),
                });
            }
            p.power()
        })
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.postfix()?;
        if !self.eat('^') {
            return Ok(base);
        }
        let exponent = self.unary()?;
        Ok(match (&base, &exponent) {
            (Expr::Num(e), _) if (*e - std::f64::consts::E).abs() < 1e-15 => exp(exponent),
            (_, Expr::Num(k)) if k.fract() == 0.0 && k.abs() <= 64.0 => pow(base, *k as i32),
            (_, Expr::Neg(inner)) if matches!(**inner, Expr::Num(k) if k.fract() == 0.0 && k.abs() <= 64.0) =>
            {
                let Expr::Num(k) = **inner else {
                    unreachable!()
                };
                pow(base, -(k as i32))
            }
            _ => exp(mul(vec![exponent, ln(base)])),
        })
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut value = self.primary()?;
        while let Some(Token::Power(k)) = self.peek().cloned() {
            self.position += 1;
            value = pow(value, k);
        }
        Ok(value)
    }

    fn argument(&mut self, name: &str) -> Result<Expr, ParseError> {
        if !self.eat('(') {
            return self.fail(format!(
                "{name} needs its argument in parentheses: {name}(…)"
            ));
        }
        let inner = self.sum()?;
        if !self.eat(')') {
            return self.fail("expected ')'");
        }
        Ok(inner)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let Some(token) = self.peek().cloned() else {
            return self.fail("the expression ends where a value is expected");
        };
        self.position += 1;
        match token {
            Token::Number(v) => Ok(num(v)),
            Token::Op('(') => {
                let inner = self.sum()?;
                if self.eat(')') {
                    Ok(inner)
                } else {
                    self.fail("expected ')'")
                }
            }
            Token::Op('[') => {
                let inner = self.sum()?;
                if self.eat(']') {
                    Ok(inner)
                } else {
                    self.fail("expected ']'")
                }
            }
            Token::Name(name) => self.named(&name),
            Token::Op(op) => {
                self.position -= 1;
                self.fail(format!("'{op}' where a value is expected"))
            }
            Token::Prime | Token::Power(_) | Token::Sigma(_) => {
                self.position -= 1;
                self.fail("a value is expected here")
            }
        }
    }

    fn named(&mut self, name: &str) -> Result<Expr, ParseError> {
        let prime = if self.peek() == Some(&Token::Prime) {
            self.position += 1;
            true
        } else {
            false
        };
        let activation = match name {
            "sigma" | "σ" | "sigmoid" => Some(Activation::Sigmoid),
            "relu" => Some(Activation::Relu),
            "tanh" => Some(Activation::Tanh),
            "softplus" => Some(Activation::Softplus),
            "identity" => Some(Activation::Identity),
            _ => None,
        };
        if let Some(activation) = activation {
            let argument = self.argument(name)?;
            return Ok(if prime {
                slope(activation, argument)
            } else {
                act(activation, argument)
            });
        }
        if prime {
            self.position -= 1;
            return self.fail(format!(
                "a prime (′) after '{name}', which is not a function"
            ));
        }
        match name {
            "exp" => return Ok(exp(self.argument(name)?)),
            "ln" | "log" => return Ok(ln(self.argument(name)?)),
            "sqrt" => {
                let argument = self.argument(name)?;
                return Ok(exp(mul(vec![num(0.5), ln(argument)])));
            }
            "sum" => {
                let body = self.inside_sum(|p| p.argument(name))?;
                return Ok(mul(vec![var(Symbol::N), mean(body)]));
            }
            "sumk" => return Ok(sum(Index::K, self.inside_sum(|p| p.argument(name))?)),
            "e" => return Ok(num(std::f64::consts::E)),
            _ => {}
        }
        let mut letters = name.chars();
        let symbol = match letters.next() {
            Some('y') => Symbol::Y,
            Some('z') => Symbol::Z,
            Some('a') => Symbol::A,
            Some('b') => Symbol::B,
            Some('x') => Symbol::X,
            Some('w') => Symbol::W,
            Some('n') => Symbol::N,
            _ => {
                self.position -= 1;
                return self.fail(format!(
                    "'{name}' is not a name nabla reads (y, z, a, b, x_j, w_j, n, e, σ, relu, exp, ln, sqrt, sum)"
                ));
            }
        };
        let index = |c: char| match c {
            'i' => Some(Index::I),
            'j' => Some(Index::J),
            'k' => Some(Index::K),
            'm' => Some(Index::M),
            _ => None,
        };
        let subscripts: Vec<Option<Index>> = letters.map(index).collect();
        if subscripts.len() > 2 || subscripts.iter().any(Option::is_none) {
            self.position -= 1;
            return self.fail(format!("'{name}': subscripts are i, j, k or m"));
        }
        let var = match (symbol, subscripts.as_slice()) {
            (Symbol::N, []) => Var::plain(Symbol::N),
            (Symbol::N, _) => {
                self.position -= 1;
                return self.fail("n (the number of examples) takes no subscript");
            }
            // x and w without a subscript are the input and weight of feature j.
            (Symbol::X, []) => Var::at(Symbol::X, Index::J),
            (Symbol::W, []) => Var::at(Symbol::W, Index::J),
            (symbol, []) => Var::plain(symbol),
            (symbol, [Some(one)]) => Var::at(symbol, *one),
            (symbol, [Some(first), Some(second)]) => Var::at2(symbol, *first, *second),
            _ => unreachable!("checked above"),
        };
        Ok(Expr::Var(var))
    }
}

/// Parses a learner's expression.
///
/// # Errors
/// The column where it stops making sense, and what was expected there.
pub fn parse_claim(text: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(ParseError {
            column: 0,
            message: "the expression is empty".into(),
        });
    }
    let mut parser = Parser {
        tokens,
        position: 0,
        end: text.chars().count(),
        depth: 0,
        sums: 0,
    };
    let expr = parser.sum()?;
    if parser.position < parser.tokens.len() {
        return parser.fail("unexpected text after the expression");
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_learners_type() {
        for (input, text) in [
            ("(y - z)/(z*(1 - z))", "(y − z)/(z·(1 − z))"),
            ("(y − z)/(z(1 − z))", "(y − z)/(z·(1 − z))"),
            ("(a-y)*x_j", "(a − y)·xⱼ"),
            ("(a − y)xⱼ", "(a − y)·xⱼ"),
            ("σ(z)(1-σ(z))", "σ(z)·(1 − σ(z))"),
            ("2(a-y)sigma'(z)x", "2·(a − y)·σ′(z)·xⱼ"),
            ("e^z", "e^z"),
            ("a^2", "a²"),
            ("-y/a", "(−y)/a"),
        ] {
            assert_eq!(parse_claim(input).unwrap().text(), text, "{input}");
        }
    }

    #[test]
    fn errors_point_at_the_column() {
        let error = parse_claim("(a - y) * ").unwrap_err();
        assert_eq!(error.column, 10);
        let error = parse_claim("(a - y)) x").unwrap_err();
        assert_eq!(error.column, 7);
        assert!(error.pointing_into("(a - y)) x").contains("\n         ^"));
        let error = parse_claim("a + q").unwrap_err();
        assert!(error.message.contains("'q' is not a name"), "{error:?}");
        assert!(parse_claim(&"(".repeat(200)).is_err());
        assert!(parse_claim("").is_err());
    }

    /// Each nested Σ multiplies the work of a diagnosis (the fuzzer's slow units nested
    /// eight): two are read, a third is refused at its column, in either spelling.
    #[test]
    fn sums_nest_at_most_two_deep() {
        assert!(parse_claim("Σₖ Σₓ (a - y)*x_j").is_ok());
        let error = parse_claim("Σₖ Σₓ Σₖ (a - y)").unwrap_err();
        assert_eq!(error.column, 6, "{error:?}");
        assert!(error.message.contains("at most 2 sums nested"), "{error:?}");
        assert!(parse_claim("sum(sum_k(sum(a)))").is_err());
        assert!(
            parse_claim("Σₓ a + Σₓ y + Σₓ z").is_ok(),
            "sums side by side are fine"
        );
        let fuzzed = "ΣΣΣ\t Σ\t Σ₄Σ₅Σ\t Σ5";
        assert!(parse_claim(fuzzed).is_err());
    }
}
