//! JSON bodies that must be objects: serde reads a struct from an array too (`[null, null]`
//! as `{"a": null, "b": null}`), which the API document does not allow; these extractors refuse
//! anything but an object (422), then read it as [`Body`] does, naming the field at fault.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::extract::{Body, MaybeBody, parse};
use super::problem::{Kind, Problem};

/// `value` read into `T`, if it is a JSON object.
fn from_object<T: DeserializeOwned>(value: Value) -> Result<T, Problem> {
    if !value.is_object() {
        return Err(Problem::new(
            Kind::Validation,
            "the body: send a JSON object ({…})",
        ));
    }
    let bytes = serde_json::to_vec(&value)
        .map_err(|e| Problem::new(Kind::Malformed, format!("the request body: {e}")))?;
    parse(&bytes)
}

/// A JSON object read into `T` (see [`Body`]).
#[derive(Debug)]
pub struct ObjectBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ObjectBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let Body(value) = Body::<Value>::from_request(req, state).await?;
        from_object(value).map(ObjectBody)
    }
}

/// A JSON object read into `T`, or nothing (an empty body or `null`; see [`MaybeBody`]).
#[derive(Debug)]
pub struct MaybeObjectBody<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for MaybeObjectBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let MaybeBody(value) = MaybeBody::<Value>::from_request(req, state).await?;
        match value {
            None | Some(Value::Null) => Ok(MaybeObjectBody(None)),
            Some(value) => from_object(value).map(|t| MaybeObjectBody(Some(t))),
        }
    }
}
