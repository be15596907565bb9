//! Bulk (RFC 7644 §3.7): the operations of one `BulkRequest` (read and ordered by
//! `scim::bulk`), run in that order, each through the same use case as its single request —
//! an operation that names `bulkId:<id>` runs after the POST that defines that bulkId, with the
//! new id put in its place. Operations in a cycle are answered 409 (§3.7.1). Each operation is
//! atomic on its own, as the RFC says; the request is not. `failOnErrors` stops after that many
//! errors.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::view::{Answer, Condition, Context};
use super::{Directory, Error};
use crate::scim;
use crate::scim::bulk::{BulkRequest, Op, Step};
use crate::scim::resource::Version;
use crate::scim::urn;

impl Directory {
    /// Runs a BulkRequest; the BulkResponse.
    pub async fn bulk(&self, ctx: &Context<'_>, base: &str, body: &Value) -> Result<Value, Error> {
        let request = BulkRequest::read(body)?;
        let mut created: HashMap<&str, String> = HashMap::new();
        let mut failed: HashSet<&str> = HashSet::new();
        let mut results: Vec<(usize, Value)> = Vec::new();
        let mut errors = 0u64;
        for step in request.order() {
            if request.fail_on_errors.is_some_and(|n| errors >= n) {
                break;
            }
            let (i, outcome) = match step {
                Step::Run(i) => {
                    let op = &request.ops[i];
                    (i, self.run(ctx, base, op, &created, &failed).await)
                }
                Step::Circular(i) => (
                    i,
                    Err(scim::Error::new(
                        409,
                        None,
                        "the operation is part of a circular bulkId reference (RFC 7644 §3.7.1)",
                    )
                    .into()),
                ),
            };
            let op = request.ops[i].as_ref().ok();
            let mut result = Map::new();
            if let Some(op) = op {
                result.insert("method".into(), json!(op.method));
                if let Some(id) = op.bulk_id {
                    result.insert("bulkId".into(), json!(id));
                }
            }
            match outcome {
                Ok((status, location, version, id)) => {
                    if let (Some(bulk_id), Some(id)) = (op.and_then(|o| o.bulk_id), id) {
                        created.insert(bulk_id, id);
                    }
                    if let Some(location) = location {
                        result.insert("location".into(), json!(location));
                    }
                    if let Some(version) = version {
                        result.insert("version".into(), json!(version.etag()));
                    }
                    result.insert("status".into(), json!(status.to_string()));
                }
                Err(e) => {
                    errors += 1;
                    if let Some(id) = op.and_then(|o| o.bulk_id) {
                        failed.insert(id);
                    }
                    let error = operation_error(e);
                    result.insert("status".into(), json!(error.status.to_string()));
                    result.insert("response".into(), error.to_body());
                }
            }
            results.push((i, Value::Object(result)));
        }
        results.sort_by_key(|(i, _)| *i);
        Ok(json!({
            "schemas": [urn::BULK_RESPONSE],
            "Operations": results.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
        }))
    }

    /// One operation, its references resolved: status, location, version, and the id it made.
    async fn run(
        &self,
        ctx: &Context<'_>,
        base: &str,
        op: &Result<Op<'_>, scim::Error>,
        created: &HashMap<&str, String>,
        failed: &HashSet<&str>,
    ) -> Result<(u16, Option<String>, Option<Version>, Option<String>), Error> {
        let op = op.as_ref().map_err(|e| Error::Scim(e.clone()))?;
        let resolved = op.resolve(created, failed)?;
        let (kind, id, path, data) = (resolved.kind, resolved.id, resolved.path, resolved.data);
        let condition = resolved.version.map(|v| Condition::Tags(vec![v]));
        let ctx = Context {
            if_match: condition.as_ref().or(ctx.if_match),
            ..*ctx
        };
        let body = || {
            data.clone().ok_or_else(|| {
                Error::from(scim::Error::invalid_syntax(
                    "data: this method needs the resource or PatchOp in 'data'",
                ))
            })
        };
        let need_id = || {
            id.clone().ok_or_else(|| {
                Error::from(scim::Error::new(
                    400,
                    Some(scim::ScimType::InvalidPath),
                    format!("path '{path}' names no resource id"),
                ))
            })
        };
        let no_id = |id: &Option<String>| match id {
            Some(_) => Err(Error::from(scim::Error::new(
                400,
                Some(scim::ScimType::InvalidPath),
                format!("POST goes to '/{}s', not to a resource", kind.as_str()),
            ))),
            None => Ok(()),
        };
        match op.method.as_str() {
            "POST" => {
                no_id(&id)?;
                let shown = self.create(&ctx, kind, &body()?).await?;
                let new = shown.resource.id.to_string();
                Ok((
                    201,
                    Some(shown.location(base)),
                    Some(shown.version()),
                    Some(new),
                ))
            }
            "PUT" => {
                let shown = self.replace(&ctx, kind, &need_id()?, &body()?).await?;
                Ok((200, Some(shown.location(base)), Some(shown.version()), None))
            }
            "PATCH" => match self.patch(&ctx, kind, &need_id()?, &body()?).await? {
                Answer::Resource(shown) => {
                    Ok((200, Some(shown.location(base)), Some(shown.version()), None))
                }
                Answer::VersionOnly(v) => Ok((
                    204,
                    Some(format!(
                        "{base}/{}/{}",
                        kind.endpoint().trim_start_matches('/'),
                        need_id()?
                    )),
                    Some(v),
                    None,
                )),
            },
            "DELETE" => {
                self.delete(&ctx, kind, &need_id()?).await?;
                Ok((204, None, None, None))
            }
            other => Err(scim::Error::bad_request(format!(
                "method '{other}': use POST, PUT, PATCH or DELETE"
            ))
            .into()),
        }
    }
}

/// An operation's failure as the error its result carries.
fn operation_error(e: Error) -> scim::Error {
    match e {
        Error::Scim(s) => s,
        Error::Unavailable(why) => {
            scim::Error::new(503, None, format!("{why}; retry the operation"))
        }
        Error::Internal(cause) => {
            tracing::error!(error = %cause, "a bulk operation failed");
            scim::Error::internal()
        }
    }
}
