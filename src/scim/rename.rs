//! Entra's soft-delete rename, recognised from the values alone: when a user is deleted in
//! Microsoft Entra ID its user principal name becomes the object id's 32 hex digits followed
//! by the old name (`283405f5a8c24d0e9a1b7c3d2e4f5a6bralf@contoso.com` for
//! `ralf@contoso.com`), and Entra may send that name as the user's new `userName`.

/// How many hex digits of the object id Entra puts before the old name.
pub const OBJECT_ID_DIGITS: usize = 32;

/// Whether `sent` is exactly [`OBJECT_ID_DIGITS`] hex digits (either case) followed by
/// `stored`, compared exactly when `case_exact` (`externalId`) and ignoring ASCII case
/// otherwise (`userName`). An empty stored value is never renamed.
pub fn is_soft_delete_rename(stored: &str, sent: &str, case_exact: bool) -> bool {
    if stored.is_empty() || sent.len() != OBJECT_ID_DIGITS + stored.len() {
        return false;
    }
    if !sent.as_bytes()[..OBJECT_ID_DIGITS]
        .iter()
        .all(u8::is_ascii_hexdigit)
    {
        return false;
    }
    // the digits are ASCII, so the old name starts on a character boundary
    let rest = &sent[OBJECT_ID_DIGITS..];
    match case_exact {
        true => rest == stored,
        false => rest.eq_ignore_ascii_case(stored),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "283405f5a8c24d0e9a1b7c3d2e4f5a6b";

    #[test]
    fn thirty_two_hex_digits_before_the_stored_name_are_entras_rename() {
        let sent = format!("{ID}ralf@contoso.com");
        assert!(is_soft_delete_rename("ralf@contoso.com", &sent, false));
        assert!(is_soft_delete_rename("ralf@contoso.com", &sent, true));
        let upper = format!("{}ralf@contoso.com", ID.to_uppercase());
        assert!(is_soft_delete_rename("ralf@contoso.com", &upper, true));
    }

    #[test]
    fn the_suffix_compares_ignoring_case_only_when_the_attribute_does() {
        let sent = format!("{ID}Ralf@Contoso.com");
        assert!(is_soft_delete_rename("ralf@contoso.com", &sent, false));
        assert!(!is_soft_delete_rename("ralf@contoso.com", &sent, true));
    }

    #[test]
    fn other_lengths_non_hex_digits_and_other_suffixes_are_not_the_rename() {
        let stored = "ralf@contoso.com";
        let cases = [
            format!("{}{stored}", &ID[..31]),
            format!("{ID}0{stored}"),
            format!("{}g{stored}", &ID[..31]),
            format!("{}-{stored}", &ID[..31]),
            format!("{ID}ralf@contoso.org"),
            format!("{ID}alf@contoso.com"),
            format!("{ID}ralf@contoso.com\0"),
            stored.to_owned(),
            ID.to_owned(),
            String::new(),
        ];
        for sent in &cases {
            assert!(!is_soft_delete_rename(stored, sent, false), "{sent:?}");
        }
        assert!(!is_soft_delete_rename("", ID, false), "an empty name");
    }

    #[test]
    fn multibyte_text_is_compared_without_splitting_a_character() {
        let stored = "jürgen@contoso.com";
        let sent = format!("{ID}{stored}");
        assert!(is_soft_delete_rename(stored, &sent, false));
        // 31 digits then a two-byte character: the lengths match, the digits do not
        let odd = format!("{}é{}", &ID[..31], &stored[1..]);
        assert!(!is_soft_delete_rename(stored, &odd, false));
        let emoji = format!("😀😀😀😀😀😀😀😀{stored}");
        assert!(!is_soft_delete_rename(stored, &emoji, false));
    }
}
