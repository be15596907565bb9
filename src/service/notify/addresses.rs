//! E-mail addresses alerts go to, checked before they are stored: each an address lettre can
//! send to (its `Address`, RFC 5321's `local@domain`), without control characters, at most
//! [`MAX_ADDRESSES`] of them to a tenant, none twice.

use std::str::FromStr;

use crate::scim;
use crate::service::Error;

/// The most notification addresses a tenant has.
pub const MAX_ADDRESSES: usize = 20;
/// The longest address (RFC 5321 §4.5.3.1.3's path, less its brackets).
const MAX_CHARS: usize = 254;

/// `text` as an address alerts can be sent to, trimmed; or why not.
pub fn check_address(text: &str) -> Result<String, Error> {
    let address = text.trim();
    let shown: String = address
        .chars()
        .take(80)
        .collect::<String>()
        .escape_debug()
        .to_string();
    let refuse = |why: &str| -> Error {
        scim::Error::invalid_value(format!("'{shown}' is not an e-mail address: {why}")).into()
    };
    if address.is_empty() {
        return Err(scim::Error::invalid_value("an e-mail address is empty").into());
    }
    if address.chars().any(char::is_control) {
        return Err(refuse("it contains a control character"));
    }
    if address.chars().count() > MAX_CHARS {
        return Err(refuse(&format!("it is longer than {MAX_CHARS} characters")));
    }
    lettre::Address::from_str(address)
        .map_err(|e| refuse(&format!("{e} (write it as name@example.com)")))?;
    Ok(address.to_owned())
}

/// A tenant's notification addresses, each checked, at most [`MAX_ADDRESSES`], none twice
/// (in any letter case).
pub fn check_addresses(list: &[String]) -> Result<Vec<String>, Error> {
    if list.len() > MAX_ADDRESSES {
        return Err(scim::Error::invalid_value(format!(
            "a tenant has at most {MAX_ADDRESSES} notification addresses; {} were given",
            list.len()
        ))
        .into());
    }
    let mut checked: Vec<String> = Vec::with_capacity(list.len());
    for text in list {
        let address = check_address(text)?;
        if checked.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
            return Err(scim::Error::invalid_value(format!(
                "'{address}' is given twice: give each notification address once"
            ))
            .into());
        }
        checked.push(address);
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(e: Error) -> String {
        match e {
            Error::Scim(e) => e.detail,
            other => panic!("not a SCIM error: {other:?}"),
        }
    }

    #[test]
    fn addresses_are_trimmed_and_checked_one_by_one() {
        assert_eq!(
            check_address(" ops@acme.test ").ok(),
            Some("ops@acme.test".into())
        );
        for bad in [
            "",
            "ops",
            "ops@",
            "@acme.test",
            "ops@@acme.test",
            "a b@acme.test",
        ] {
            assert!(check_address(bad).is_err(), "{bad:?} accepted");
        }
        let nul = detail(check_address("ops\0@acme.test").unwrap_err());
        assert!(
            nul.contains("control character") && nul.contains("\\0"),
            "{nul}"
        );
        let long = format!("{}@acme.test", "a".repeat(300));
        assert!(detail(check_address(&long).unwrap_err()).contains("longer than 254"));
    }

    #[test]
    fn a_list_has_at_most_twenty_addresses_none_twice() {
        let twenty: Vec<String> = (0..20).map(|i| format!("o{i}@acme.test")).collect();
        assert_eq!(check_addresses(&twenty).unwrap(), twenty);
        let mut more = twenty.clone();
        more.push("o20@acme.test".into());
        assert!(detail(check_addresses(&more).unwrap_err()).contains("at most 20"));
        let twice = vec!["ops@acme.test".to_owned(), "OPS@acme.test".to_owned()];
        assert!(detail(check_addresses(&twice).unwrap_err()).contains("given twice"));
        assert_eq!(check_addresses(&[]).unwrap(), Vec::<String>::new());
    }
}
