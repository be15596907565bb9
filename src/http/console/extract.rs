//! The console's extractors: axum's `Form`, `Path` and `Query`, whose rejections (a form sent as
//! JSON, a field twice, an id that is not UTF-8 once decoded) axum answers in plain text, here
//! answered as a console page with the same status, like every other answer of the console.

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::views;
use crate::http::page::html;

/// A request the console refused before its handler ran: the status and why.
pub struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let page = views::Message {
            title: "Cannot read this request",
            message: &self.1,
        };
        html(self.0, page.render(), "")
    }
}

/// A form (`application/x-www-form-urlencoded`).
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Refused;

    async fn from_request(req: Request, state: &S) -> Result<Self, Refused> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(form)) => Ok(Form(form)),
            Err(e) => Err(Refused(e.status(), e.body_text())),
        }
    }
}

/// The parameters in the path.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refused> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(e) => Err(Refused(e.status(), e.body_text())),
        }
    }
}

/// The query string's parameters.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refused> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(e) => Err(Refused(e.status(), e.body_text())),
        }
    }
}
