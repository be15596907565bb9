//! The SCIM error (RFC 7644 §3.12): an HTTP status, an optional `scimType` and a detail a
//! person can act on. This is the only error a client ever sees; `http::error` renders it.

use serde::Serialize;

/// The `scimType` values of RFC 7644 §3.12, Table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
    /// RFC 9865 §3: a cursor that is malformed or belongs to another query.
    InvalidCursor,
}

/// A protocol error: status, `scimType` where one applies, and a detail that names the
/// attribute and the problem — for the client, who may read the values it sent. What scimd's
/// own records (the activity log) keep of it is the [`Note`], which holds no value.
#[derive(Debug, Clone, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Error {
    pub status: u16,
    pub scim_type: Option<ScimType>,
    pub detail: String,
    pub note: Note,
}

/// Errors are equal when a client sees them alike; the note is scimd's own record of them.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        (self.status, self.scim_type, &self.detail)
            == (other.status, other.scim_type, &other.detail)
    }
}

/// What the activity log keeps of an error, built from typed parts so that no value a client
/// sent can be in it, whatever the value holds: the attribute at fault (kept only if it is
/// spelled as an attribute name or schema URN is) and a reason of scimd's own text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    attribute: Option<String>,
    reason: Option<&'static str>,
}

/// The longest attribute name (or `urn:…:name`) a note keeps.
const NOTE_NAME_CHARS: usize = 200;

/// Whether `name` is spelled as an attribute name, a path of them, or a schema URN (RFC 7643
/// §2.1 ATTRNAME, `.` and `:`): no quote, space, `@` or bracket, so no value.
pub fn is_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NOTE_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_$-:.".contains(&b))
}

/// `text` without its bracketed parts (nested brackets count; an unclosed one runs to the end).
pub fn without_brackets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0u32;
    for c in text.chars() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

impl Note {
    /// The note's text: `attribute: reason`, with a reason after the error's kind when the
    /// error gave none.
    pub fn text(&self, status: u16, scim_type: Option<ScimType>) -> String {
        let reason = self
            .reason
            .unwrap_or_else(|| default_reason(status, scim_type));
        match &self.attribute {
            Some(attribute) => format!("{attribute}: {reason}"),
            None => reason.to_owned(),
        }
    }
}

/// The reason of an error that did not say, after its `scimType` or status.
fn default_reason(status: u16, scim_type: Option<ScimType>) -> &'static str {
    match (scim_type, status) {
        (Some(ScimType::InvalidFilter), _) => "the filter is not valid",
        (Some(ScimType::TooMany), _) => "the query would return too many results",
        (Some(ScimType::Uniqueness), _) => "a value that must be unique is taken",
        (Some(ScimType::Mutability), _) => "the attribute may not be changed so",
        (Some(ScimType::InvalidSyntax), _) => "the request is not the message the endpoint expects",
        (Some(ScimType::InvalidPath), _) => "the path is not valid",
        (Some(ScimType::NoTarget), _) => "the path matches nothing",
        (Some(ScimType::InvalidValue), _) => "a value is not valid",
        (Some(ScimType::InvalidVers), _) => "the version is not valid",
        (Some(ScimType::Sensitive), _) => "the request holds a value it may not",
        (Some(ScimType::InvalidCursor), _) => "the cursor is not valid",
        (None, 401) => "not authenticated",
        (None, 404) => "not found",
        (None, 405) => "the method is not allowed here",
        (None, 409) => "the request conflicts with the directory",
        (None, 412) => "the resource is at another version",
        (None, 413) => "the request is too large",
        (None, 415) => "the content type is not supported",
        (None, 429) => "too many requests",
        (None, 500..) => "scimd could not serve the request",
        (None, _) => "the request is not valid",
    }
}

impl Error {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            note: Note::default(),
        }
    }

    /// The error is about `attribute` (a name, never a value: one that is not spelled as an
    /// attribute name is not kept).
    /// Bracketed parts (`[2]`, a value filter) are left out: `emails[type eq "work"].value` is
    /// noted as `emails.value`.
    pub fn at(mut self, attribute: &str) -> Self {
        let name = without_brackets(attribute);
        self.note.attribute = is_attribute_name(&name).then_some(name);
        self
    }

    /// Why, in scimd's words, for the activity log.
    pub fn because(mut self, reason: &'static str) -> Self {
        self.note.reason = Some(reason);
        self
    }

    /// The attribute (or field) the error is about, when it named one.
    pub fn attribute(&self) -> Option<&str> {
        self.note.attribute.as_deref()
    }

    /// What the activity log keeps of the error.
    pub fn note_text(&self) -> String {
        self.note.text(self.status, self.scim_type)
    }

    /// The same error with `prefix` before its detail (`Operations[2]: …`); the note is kept.
    pub fn prefixed(self, prefix: &str) -> Self {
        Self {
            detail: format!("{prefix}: {}", self.detail),
            ..self
        }
    }

    /// 400 `invalidValue`: a value of the wrong type, a missing required attribute, …
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some(ScimType::InvalidValue), detail)
    }

    /// 400 `invalidSyntax`: the request body is not the message the endpoint expects.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some(ScimType::InvalidSyntax), detail)
    }

    /// 400 `mutability`: an attempt to change what may not change (RFC 7643 §2.2).
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(400, Some(ScimType::Mutability), detail)
    }

    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some(ScimType::Uniqueness), detail)
    }

    /// 400 without a `scimType`: a malformed query parameter and the like.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, None, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, None, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(405, None, detail)
    }

    /// 412: `If-Match` named a version that is no longer current (RFC 7644 §3.14).
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, None, detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(415, None, detail)
    }

    pub fn internal() -> Self {
        Self::new(
            500,
            None,
            "internal error; the server log has the cause under this request's x-request-id",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(503, None, "the database is unavailable; retry later")
    }

    /// The RFC 7644 §3.12 JSON body. `status` is a string there, not a number.
    pub fn to_body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "schemas": [crate::scim::urn::ERROR],
            "status": self.status.to_string(),
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = serde_json::json!(scim_type);
        }
        body["detail"] = serde_json::Value::String(self.detail.clone());
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_status_as_string_and_scim_type() {
        let body = Error::uniqueness("userName 'a' is taken").to_body();
        assert_eq!(
            body,
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "409",
                "scimType": "uniqueness",
                "detail": "userName 'a' is taken",
            })
        );
    }

    #[test]
    fn a_note_keeps_the_attribute_name_and_the_reason_and_never_a_value() {
        let taken = Error::uniqueness("a User with userName 'o'brien@contoso.com' already exists")
            .at("userName")
            .because("is taken");
        assert_eq!(taken.note_text(), "userName: is taken");
        let valued = Error::invalid_value("x").at("o'brien@contoso.com");
        assert_eq!(valued.note_text(), "a value is not valid");
        let filtered = Error::invalid_value("x").at("emails[value eq \"a@b.c\"].display");
        assert_eq!(filtered.note_text(), "emails.display: a value is not valid");
        let unclosed = Error::invalid_value("x").at("emails[value eq \"a@b.c\"");
        assert_eq!(unclosed.note_text(), "emails: a value is not valid");
        let nul = Error::invalid_value("x").at("a\u{0}b");
        assert_eq!(nul.note_text(), "a value is not valid");
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber";
        assert_eq!(
            Error::invalid_value("x").at(urn).note_text(),
            format!("{urn}: a value is not valid")
        );
        assert_eq!(
            Error::not_found("no User with id jane@contoso.com").note_text(),
            "not found"
        );
        assert_eq!(
            taken.clone().prefixed("Operations[1]").detail,
            "Operations[1]: a User with userName 'o'brien@contoso.com' already exists"
        );
        assert_eq!(
            taken.prefixed("Operations[1]").note_text(),
            "userName: is taken"
        );
    }

    #[test]
    fn error_body_omits_scim_type_when_none_applies() {
        let body = Error::not_found("no User with id x").to_body();
        assert!(body.get("scimType").is_none());
        assert_eq!(body["status"], "404");
    }
}
