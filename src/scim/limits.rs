//! The bounds scimd puts on what one request may hold, in one place, so that the README, the
//! discovery documents and the service cite the same numbers. Each bound keeps the work one
//! request can cause proportional to its size (RFC 7644 §3.12 lets a service provider refuse
//! what it is unwilling to process), and each refusal is a 400 naming the attribute and the
//! bound.

use crate::scim::error::Error;
use crate::scim::schema::ResourceKind;

/// Operations in one PatchOp message (RFC 7644 §3.5.2). An `add` or `replace` without a `path`
/// counts once for every attribute its value sets, so one operation cannot stand for thousands.
/// More is 400 `invalidValue`: RFC 7644 §3.12 lists `invalidValue` for PATCH and keeps
/// `tooMany` for filters.
pub const MAX_PATCH_OPERATIONS: usize = 1_000;

/// Members one request may add, remove or set (a group's PATCH, POST or PUT): Entra sends at
/// most a few hundred per request, and the work of a request stays bounded whatever the
/// group's size. More is 400 `invalidValue`.
pub const MAX_MEMBERS_PER_REQUEST: usize = 1_000;

/// Values of one multi-valued attribute (`emails`, `roles`, a group's `members` in a POST or
/// PUT body), as sent and after a PATCH. More is 400 `invalidValue` naming the attribute.
pub const MAX_VALUES: usize = 1_000;

/// Bytes (UTF-8) of one string value. More is 400 `invalidValue` naming the attribute.
pub const MAX_STRING_BYTES: usize = 64 * 1024;

/// Characters of a name that identifies a resource and is looked up by it: a user's
/// `userName`, a group's `displayName` and `externalId` of both ([`NAME_ATTRIBUTES`]).
pub const MAX_NAME_CHARS: usize = 1_024;

/// The attributes [`MAX_NAME_CHARS`] applies to, per resource type.
pub const NAME_ATTRIBUTES: [(ResourceKind, &str); 4] = [
    (ResourceKind::User, "userName"),
    (ResourceKind::User, "externalId"),
    (ResourceKind::Group, "displayName"),
    (ResourceKind::Group, "externalId"),
];

/// Bytes of a filter (RFC 7644 §3.4.2.2). More is 400 `invalidFilter`.
pub const MAX_FILTER_BYTES: usize = 4096;

/// Levels of parentheses and value-path brackets a filter may nest.
pub const MAX_FILTER_DEPTH: usize = 16;

/// Expressions (comparisons, `and`, `or`, `not`) in one filter.
pub const MAX_FILTER_EXPRESSIONS: usize = 128;

/// The page size when the client names none (RFC 7644 §3.4.2.4).
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// The largest page scimd returns; a larger `count` is cut to it (RFC 7644 §3.4.2.4 lets the
/// service provider cap it). Advertised as `filter.maxResults` and `pagination.maxPageSize`.
pub const MAX_PAGE_SIZE: u32 = 1_000;

/// Checks a string scimd is about to keep under `path`: PostgreSQL's `text` and `jsonb` cannot
/// hold U+0000, and [`MAX_STRING_BYTES`] bounds its size.
pub fn check_string(path: &str, value: &str) -> Result<(), Error> {
    if value.contains('\0') {
        return Err(Error::invalid_value(format!(
            "{path}: contains a NUL character, which scimd cannot store"
        ))
        .at(path)
        .because("contains a NUL character"));
    }
    if value.len() > MAX_STRING_BYTES {
        return Err(Error::invalid_value(format!(
            "{path}: is {} bytes long; a string may be at most {MAX_STRING_BYTES} bytes (UTF-8)",
            value.len()
        ))
        .at(path)
        .because("is too long"));
    }
    Ok(())
}

/// Checks the operations of one PatchOp (`writes`: an operation without a path counting once
/// per attribute it sets) against [`MAX_PATCH_OPERATIONS`].
pub fn check_operations(writes: usize) -> Result<(), Error> {
    if writes > MAX_PATCH_OPERATIONS {
        return Err(Error::invalid_value(format!(
            "a PatchOp may hold at most {MAX_PATCH_OPERATIONS} operations (one without a 'path' \
             counts once per attribute it sets); this one has {writes}"
        ))
        .because("the PatchOp holds too many operations"));
    }
    Ok(())
}

/// Checks a name of [`NAME_ATTRIBUTES`] against [`MAX_NAME_CHARS`].
pub fn check_name(path: &str, value: &str) -> Result<(), Error> {
    let chars = value.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(Error::invalid_value(format!(
            "{path}: is {chars} characters long; it may be at most {MAX_NAME_CHARS}"
        ))
        .at(path)
        .because("is too long"));
    }
    Ok(())
}

/// Checks the number of values of the multi-valued attribute at `path` against [`MAX_VALUES`].
pub fn check_values(path: &str, count: usize) -> Result<(), Error> {
    if count > MAX_VALUES {
        return Err(Error::invalid_value(format!(
            "{path}: has {count} values; an attribute may have at most {MAX_VALUES}"
        ))
        .at(path)
        .because("has too many values"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_with_nul_or_over_the_byte_limit_are_invalid_value_naming_the_path() {
        let long = "€".repeat(MAX_STRING_BYTES / 3 + 1);
        let cases = [
            (
                "a\u{0}b",
                Some("nickName: contains a NUL character, which scimd cannot store"),
            ),
            (
                "\u{0}",
                Some("nickName: contains a NUL character, which scimd cannot store"),
            ),
            ("e\u{301}€😀", None),
            (
                &long,
                Some("nickName: is 65538 bytes long; a string may be at most 65536 bytes (UTF-8)"),
            ),
        ];
        for (value, expected) in cases {
            let got =
                check_string("nickName", value).map_err(|e| (e.status, e.scim_type, e.detail));
            let want = expected.map_or(Ok(()), |d| {
                Err((400, Some(crate::scim::ScimType::InvalidValue), d.to_owned()))
            });
            assert_eq!(got, want, "{value:?}");
        }
        assert_eq!(check_string("x", &"a".repeat(MAX_STRING_BYTES)), Ok(()));
    }

    #[test]
    fn names_are_counted_in_characters_not_bytes() {
        assert_eq!(check_name("userName", &"€".repeat(MAX_NAME_CHARS)), Ok(()));
        assert_eq!(
            check_name("userName", &"😀".repeat(MAX_NAME_CHARS + 1)).map_err(|e| e.detail),
            Err("userName: is 1025 characters long; it may be at most 1024".to_owned())
        );
    }

    #[test]
    fn value_counts_above_the_limit_are_invalid_value() {
        assert_eq!(check_values("emails", MAX_VALUES), Ok(()));
        assert_eq!(
            check_values("emails", MAX_VALUES + 1).map_err(|e| e.detail),
            Err("emails: has 1001 values; an attribute may have at most 1000".to_owned())
        );
    }
}
