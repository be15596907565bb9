//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`: the operations come
//! from the handlers' own annotations (the same list the router is built from); what every
//! operation may answer whatever it does — 401 without a key, 429 past the rate, 503 when the
//! database is down, 422 for a query or body field, 403 for a read-only key's write — is added
//! here, once, as the middleware that answers it does for every route.

use utoipa::Modify;
use utoipa::OpenApi as _;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, KnownFormat, ObjectBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder,
    SchemaFormat, Type,
};

use super::problem::{Kind, PROBLEM_JSON};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "scimd application API",
        version = "1",
        description = "Drive scimd from the application's backend: tenants, their SCIM tokens, \
            admins, OAuth clients, setup links, webhooks, extension schemas, activity, cycles, \
            provisioning health, the audit trail and events. Every request carries \
            `Authorization: Bearer <operator key>` (`scimd operator-key add`). Errors are RFC 9457 \
            problems (`application/problem+json`); lists are paged with opaque cursors \
            (`next_cursor`); a write sent with an `Idempotency-Key` header is served once, its \
            retries answered the same.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(super::problem::Problem, super::activity::Operation)),
    security(("operator_key" = [])),
    modifiers(&OperatorKeyScheme),
    tags(
        (name = "Tenants", description = "One tenant per customer directory (an Entra provisioning job)"),
        (name = "Tokens", description = "The Secret Tokens a tenant's SCIM client sends"),
        (name = "Admins", description = "The application's admins of a tenant, who sign in to the console and authorize Entra"),
        (name = "OAuth clients", description = "The OAuth clients of a tenant: Entra's Authorize button, client credentials"),
        (name = "Setup links", description = "Links the customer's identity admin opens to connect their identity provider on their own"),
        (name = "Audit", description = "Every change of administration: who, what, when, from where"),
        (name = "Webhooks", description = "A tenant's SCIM events, signed and pushed to the application"),
        (name = "Events", description = "A tenant's SCIM events, pulled by the application in commit order"),
        (name = "Schemas", description = "A tenant's extension schemas: the custom attributes its SCIM client sends"),
        (name = "Activity", description = "What a tenant's SCIM client did, request by request, and its provisioning cycles"),
        (name = "Health", description = "Each tenant's provisioning health: its state, since when, why, and what to do"),
    )
)]
struct Document;

/// The bearer scheme of operator keys.
struct OperatorKeyScheme;

impl Modify for OperatorKeyScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "operator_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("scimd_op_…")
                    .description(Some(
                        "An operator key (`scimd operator-key add`); SCIM tokens are not valid here",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document before the operations are added.
pub fn document() -> OpenApi {
    Document::openapi()
}

/// The problem answer of `kind`, with `headers`.
fn problem(
    kind: Kind,
    description: &str,
    headers: &[(&str, &str)],
) -> RefOr<utoipa::openapi::Response> {
    let mut response = ResponseBuilder::new()
        .description(format!("{description} (`{}`)", kind.uri()))
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        );
    for (name, about) in headers {
        let schema = if *name == "Retry-After" {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .build()
        } else {
            ObjectBuilder::new().schema_type(Type::String).build()
        };
        response = response.header(
            *name,
            HeaderBuilder::new()
                .schema(schema)
                .description(Some(*about))
                .build(),
        );
    }
    RefOr::T(response.build())
}

/// Adds `status` → `response` to `operation` unless it documents that status already.
fn answer(operation: &mut Operation, status: &str, response: &RefOr<utoipa::openapi::Response>) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| response.clone());
}

/// The `Idempotency-Key` header of a write.
fn idempotency_key() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Serve this write once: a retry with the same key (within 24 hours) gets the \
             same answer and changes nothing. 1 to 255 visible ASCII characters; a UUID is best.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[\\x21-\\x7e]+$"))
                .build(),
        ))
        .build()
}

/// The document with the answers every operation may give.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    let unauthorized = problem(
        Kind::Unauthorized,
        "No operator key, or not a valid one",
        &[("WWW-Authenticate", "Bearer realm=\"scimd-api\"")],
    );
    let limited = problem(
        Kind::RateLimited,
        "More requests than SCIMD_API_RATE_LIMIT allows",
        &[("Retry-After", "Seconds to wait")],
    );
    let unavailable = problem(
        Kind::Unavailable,
        "The database is unavailable, or scimd is at its limit",
        &[("Retry-After", "Seconds to wait")],
    );
    let internal = problem(Kind::Internal, "scimd failed; its log says why", &[]);
    let invalid = problem(
        Kind::Validation,
        "A field of the query or the body is not valid",
        &[],
    );
    let forbidden = problem(
        Kind::Forbidden,
        "A read-only operator key may not write",
        &[],
    );
    let malformed = problem(Kind::Malformed, "The body is not JSON", &[]);
    let large = problem(
        Kind::PayloadTooLarge,
        "The body is larger than SCIMD_MAX_BODY_BYTES",
        &[],
    );
    let media = problem(
        Kind::UnsupportedMediaType,
        "The body is not application/json",
        &[],
    );
    let in_use = problem(
        Kind::IdempotencyKeyInUse,
        "A request with this Idempotency-Key is being served; or one whose answer held a \
         secret (secret-not-repeated)",
        &[],
    );
    for item in doc.paths.paths.values_mut() {
        let reads = [&mut item.get, &mut item.head];
        for operation in reads.into_iter().flatten() {
            for (status, response) in [
                ("401", &unauthorized),
                ("422", &invalid),
                ("429", &limited),
                ("500", &internal),
                ("503", &unavailable),
            ] {
                answer(operation, status, response);
            }
        }
        let writes = [
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in writes.into_iter().flatten() {
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(idempotency_key());
            for (status, response) in [
                ("400", &malformed),
                ("401", &unauthorized),
                ("403", &forbidden),
                ("409", &in_use),
                ("413", &large),
                ("415", &media),
                ("422", &invalid),
                ("429", &limited),
                ("500", &internal),
                ("503", &unavailable),
            ] {
                answer(operation, status, response);
            }
        }
    }
    doc
}
