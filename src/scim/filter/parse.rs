//! The filter grammar of RFC 7644 §3.4.2.2 (Figure 1), parsed into an untyped tree: attribute
//! paths stay text until `validate` resolves them against the schema registry. Operators and
//! keywords are case-insensitive; precedence is `not`, then `and`, then `or`; values are JSON
//! literals, and (as in Microsoft's reference tests) bare words such as `Employee` or
//! `2015-10-10T14:38:21.86-07:00`, typed later by the attribute.

use super::{CompareOp, LIMITS};

/// A literal as written in the filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
    Null,
    /// An unquoted word that is not a JSON literal.
    Bare(String),
}

/// The untyped filter tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    And(Box<Raw>, Box<Raw>),
    Or(Box<Raw>, Box<Raw>),
    Not(Box<Raw>),
    Compare {
        path: String,
        op: CompareOp,
        value: Literal,
    },
    Present {
        path: String,
    },
    /// `path[filter]`: the inner filter applies to one and the same element of `path`.
    ValuePath {
        path: String,
        filter: Box<Raw>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// `.sub` right after `]` (Entra's `emails[type eq "work"].value`).
    SubAttr(String),
    Word(String),
    Str(String),
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::LParen);
                i += 1;
            }
            ')' => {
                tokens.push(Token::RParen);
                i += 1;
            }
            '[' => {
                tokens.push(Token::LBracket);
                i += 1;
            }
            ']' => {
                tokens.push(Token::RBracket);
                i += 1;
                if chars.get(i) == Some(&'.') {
                    let start = i + 1;
                    i = start;
                    while i < chars.len() && is_word_char(chars[i]) {
                        i += 1;
                    }
                    tokens.push(Token::SubAttr(chars[start..i].iter().collect()));
                }
            }
            '"' => {
                let (s, next) = json_string(&chars, i)?;
                tokens.push(Token::Str(s));
                i = next;
            }
            _ => {
                let start = i;
                while i < chars.len() && is_word_char(chars[i]) {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    !(c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"'))
}

/// A JSON string starting at `chars[start] == '"'`: its value and the index after it.
fn json_string(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut i = start + 1;
    let mut escaped = false;
    while i < chars.len() {
        match chars[i] {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => {
                let text: String = chars[start..=i].iter().collect();
                let value = serde_json::from_str::<String>(&text)
                    .map_err(|e| format!("the string {text} is not a valid JSON string ({e})"))?;
                if value.contains('\0') {
                    return Err(NUL.to_owned());
                }
                return Ok((value, i + 1));
            }
            _ => escaped = false,
        }
        i += 1;
    }
    Err("a string is missing its closing quote".to_owned())
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    nodes: usize,
}

/// The error for U+0000 in a filter, raw or as the JSON escape `\u0000`: no stored value holds
/// it (see `limits::check_string`), and PostgreSQL refuses it as a query parameter.
const NUL: &str = "the filter contains a NUL character, which no value can hold";

/// Parses a filter. Errors are sentences for the `detail` of a 400 `invalidFilter`.
pub fn parse(input: &str) -> Result<Raw, String> {
    if input.trim().is_empty() {
        return Err("the filter is empty".to_owned());
    }
    if input.len() > LIMITS.max_length {
        return Err(format!(
            "the filter is longer than {} characters",
            LIMITS.max_length
        ));
    }
    if input.contains('\0') {
        return Err(NUL.to_owned());
    }
    let mut p = Parser {
        tokens: tokenize(input)?,
        pos: 0,
        depth: 0,
        nodes: 0,
    };
    let filter = p.or()?;
    match p.peek() {
        None => Ok(filter),
        Some(t) => Err(format!(
            "unexpected {} after a complete expression",
            describe(t)
        )),
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::LParen => "'('".into(),
        Token::RParen => "')'".into(),
        Token::LBracket => "'['".into(),
        Token::RBracket => "']'".into(),
        Token::SubAttr(s) => format!("'.{s}'"),
        Token::Word(w) => format!("'{w}'"),
        Token::Str(s) => format!("\"{s}\""),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn node(&mut self) -> Result<(), String> {
        self.nodes += 1;
        if self.nodes > LIMITS.max_nodes {
            return Err(format!(
                "the filter has more than {} expressions",
                LIMITS.max_nodes
            ));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > LIMITS.max_depth {
            return Err(format!(
                "the filter nests deeper than {} levels",
                LIMITS.max_depth
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Raw, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            self.node()?;
            let right = self.and()?;
            left = Raw::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Raw, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            self.node()?;
            let right = self.unary()?;
            left = Raw::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Raw, String> {
        self.node()?;
        if self.keyword("not") && matches!(self.tokens.get(self.pos + 1), Some(Token::LParen)) {
            self.pos += 1;
            return Ok(Raw::Not(Box::new(self.group()?)));
        }
        match self.peek() {
            Some(Token::LParen) => self.group(),
            Some(Token::Word(_)) => self.attr_exp(),
            Some(t) => Err(format!("expected an attribute path, found {}", describe(t))),
            None => Err("the filter ends where an expression was expected".to_owned()),
        }
    }

    /// `( filter )`
    fn group(&mut self) -> Result<Raw, String> {
        self.enter()?;
        self.pos += 1; // '('
        let inner = self.or()?;
        match self.next() {
            Some(Token::RParen) => {
                self.depth -= 1;
                Ok(inner)
            }
            Some(t) => Err(format!("expected ')', found {}", describe(&t))),
            None => Err("a '(' is never closed".to_owned()),
        }
    }

    fn attr_exp(&mut self) -> Result<Raw, String> {
        let Some(Token::Word(path)) = self.next() else {
            return Err("expected an attribute path".to_owned());
        };
        if self.peek() == Some(&Token::LBracket) {
            return self.value_path(path);
        }
        self.comparison(path)
    }

    /// `path op value` or `path pr`.
    fn comparison(&mut self, path: String) -> Result<Raw, String> {
        let op = match self.next() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("pr") => {
                return Ok(Raw::Present { path });
            }
            Some(Token::Word(w)) => CompareOp::parse(&w).ok_or_else(|| {
                format!("'{w}' is not a filter operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)")
            })?,
            Some(t) => {
                return Err(format!(
                    "expected an operator after '{path}', found {}",
                    describe(&t)
                ));
            }
            None => return Err(format!("'{path}' needs an operator")),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Literal::Str(s),
            Some(Token::Word(w)) => literal(&w),
            Some(t) => {
                return Err(format!(
                    "expected a value after '{path} {op}', found {}",
                    describe(&t)
                ));
            }
            None => return Err(format!("'{path} {op}' needs a value")),
        };
        Ok(Raw::Compare { path, op, value })
    }

    /// `path[filter]`, optionally followed by `.sub op value` (Entra's form).
    fn value_path(&mut self, path: String) -> Result<Raw, String> {
        self.enter()?;
        self.pos += 1; // '['
        let inner = self.or()?;
        match self.next() {
            Some(Token::RBracket) => {}
            Some(t) => return Err(format!("expected ']', found {}", describe(&t))),
            None => return Err(format!("the '[' after '{path}' is never closed")),
        }
        self.depth -= 1;
        let filter = match self.peek() {
            Some(Token::SubAttr(_)) => {
                let Some(Token::SubAttr(sub)) = self.next() else {
                    return Err("expected a sub-attribute".to_owned());
                };
                if sub.is_empty() {
                    return Err(format!("'{path}[…].' needs a sub-attribute name"));
                }
                let tail = self.comparison(sub)?;
                Raw::And(Box::new(inner), Box::new(tail))
            }
            _ => inner,
        };
        Ok(Raw::ValuePath {
            path,
            filter: Box::new(filter),
        })
    }
}

fn literal(word: &str) -> Literal {
    if word.eq_ignore_ascii_case("true") {
        Literal::Bool(true)
    } else if word.eq_ignore_ascii_case("false") {
        Literal::Bool(false)
    } else if word.eq_ignore_ascii_case("null") {
        Literal::Null
    } else if let Some(n) = serde_json::from_str::<serde_json::Number>(word)
        .ok()
        .filter(|n| n.to_string() == word)
    {
        Literal::Num(n)
    } else {
        // A number spelled otherwise than serde_json spells it (`1e5`, more digits than an f64
        // keeps, which serde_json rounds inexactly) stays a word: the attribute types its text,
        // so a string attribute compares the digits as written and a number one parses them
        // exactly.
        Literal::Bare(word.to_owned())
    }
}
