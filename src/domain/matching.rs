//! A tenant's matching precedence: the attributes Entra matches users on, in the order of the
//! "Matching precedence" of its attribute mappings, each unique in the tenant.

use std::fmt;

use super::{MatchingAttribute, UnknownMatchingAttribute};
use crate::scim::filter::Filter;

/// The matching attributes of a tenant, in order (precedence 1 first): never empty, never one
/// twice. Each is kept unique among the tenant's users and answers Entra's lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precedence {
    attributes: [MatchingAttribute; 3],
    len: usize,
}

/// Why a list is no matching precedence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrecedenceError {
    #[error(
        "name at least one matching attribute: userName, externalId, emails[type eq \"work\"].value"
    )]
    Empty,
    #[error(transparent)]
    Unknown(#[from] UnknownMatchingAttribute),
    #[error(
        "{0} is listed twice; list each matching attribute once, in the order Entra matches on them"
    )]
    Repeated(MatchingAttribute),
}

impl Default for Precedence {
    fn default() -> Self {
        Self::single(MatchingAttribute::UserName)
    }
}

impl Precedence {
    /// One matching attribute.
    pub fn single(attribute: MatchingAttribute) -> Self {
        // unused places hold userName, as in `new`, so that equal lists compare equal
        let mut attributes = [MatchingAttribute::UserName; 3];
        attributes[0] = attribute;
        Self { attributes, len: 1 }
    }

    /// `attributes` in order; refused when empty or when one repeats.
    pub fn new(attributes: &[MatchingAttribute]) -> Result<Self, PrecedenceError> {
        let mut out = Self {
            attributes: [MatchingAttribute::UserName; 3],
            len: 0,
        };
        for &a in attributes {
            if out.contains(a) {
                return Err(PrecedenceError::Repeated(a));
            }
            // three distinct attributes exist, so a fourth would have repeated one
            out.attributes[out.len] = a;
            out.len += 1;
        }
        if out.len == 0 {
            return Err(PrecedenceError::Empty);
        }
        Ok(out)
    }

    /// Names in order, each as [`MatchingAttribute`] parses it; the first bad one refuses the
    /// list, so a huge list is not read past it.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, PrecedenceError> {
        let mut attributes = Vec::with_capacity(3);
        for name in names {
            let a = name.as_ref().parse::<MatchingAttribute>()?;
            if attributes.contains(&a) {
                return Err(PrecedenceError::Repeated(a));
            }
            attributes.push(a);
        }
        Self::new(&attributes)
    }

    /// The attributes, precedence 1 first.
    pub fn as_slice(&self) -> &[MatchingAttribute] {
        &self.attributes[..self.len]
    }

    /// Precedence 1.
    pub fn first(&self) -> MatchingAttribute {
        self.attributes[0]
    }

    pub fn contains(&self, attribute: MatchingAttribute) -> bool {
        self.as_slice().contains(&attribute)
    }

    /// The names, as Entra's mappings and scimd's errors spell them.
    pub fn names(&self) -> Vec<String> {
        self.as_slice()
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect()
    }

    /// The work email a filter fixes (`MatchingAttribute::fixed_by`), when the work email is
    /// one of the attributes: the key its own index serves.
    pub fn email_fixed_by<'f>(&self, filter: &'f Filter) -> Option<&'f str> {
        self.contains(MatchingAttribute::WorkEmail)
            .then(|| MatchingAttribute::WorkEmail.fixed_by(filter))
            .flatten()
    }
}

impl From<MatchingAttribute> for Precedence {
    fn from(attribute: MatchingAttribute) -> Self {
        Self::single(attribute)
    }
}

impl fmt::Display for Precedence {
    /// `userName, externalId`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.as_slice().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(a.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MatchingAttribute::*;

    #[test]
    fn a_precedence_keeps_its_order_and_refuses_none_or_a_repeat() {
        let p = Precedence::parse(&["externalId", "userName"]).unwrap();
        assert_eq!(p.as_slice(), [ExternalId, UserName]);
        assert_eq!(p.first(), ExternalId);
        assert_eq!(p.to_string(), "externalId, userName");
        assert_eq!(Precedence::parse::<&str>(&[]), Err(PrecedenceError::Empty));
        assert_eq!(
            Precedence::parse(&["userName", "USERNAME"]),
            Err(PrecedenceError::Repeated(UserName))
        );
        assert!(matches!(
            Precedence::parse(&["userName", "mail"]),
            Err(PrecedenceError::Unknown(_))
        ));
        let all = Precedence::new(&MatchingAttribute::ALL).unwrap();
        assert_eq!(all.as_slice(), MatchingAttribute::ALL);
        assert_eq!(Precedence::default().as_slice(), [UserName]);
    }
}
