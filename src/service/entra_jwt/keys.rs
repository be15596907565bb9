//! The signing keys of Entra tenants: fetched from each tenant's OpenID configuration (its
//! `jwks_uri`), cached per tenant, and fetched again when they grow old or when a token names
//! a key that is not among them — at most once per [`KeyPolicy::min_refetch`] per tenant, so
//! that a flood of tokens naming unknown keys is not a flood of fetches.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::{EntraSetupError, JwtRefusal, TENANT_PLACEHOLDER};
use crate::domain::clock::Clock;
use crate::service::outbound::{self, End};
use crate::telemetry::chain;

/// The largest OpenID configuration or key set read (Entra's are a few KiB).
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// How long keys are kept and how often they are fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    /// How long fetched keys are used before they are fetched again (24 h). Keys past it stay
    /// in use while fetching them again fails, so that an outage of the key server does not
    /// lock Entra out.
    pub cache_for: Duration,
    /// The shortest time between two fetches for one Entra tenant caused by tokens naming a
    /// key that is not in the cache (5 min).
    pub min_refetch: Duration,
    /// After a failed fetch, the time before the next one is tried (10 s), whatever caused
    /// it; meanwhile tokens that need it are refused with [`JwtRefusal::KeysUnavailable`].
    pub retry_after_failure: Duration,
    /// The longest one fetch — the OpenID configuration, then the key set — may take (5 s).
    pub fetch_timeout: Duration,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            cache_for: Duration::from_secs(24 * 60 * 60),
            min_refetch: Duration::from_secs(5 * 60),
            retry_after_failure: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// The keys of every Entra tenant asked about so far (only configured tenants are: the
/// caller verifies against the tenant id it trusts, not one a token names).
pub(super) struct KeyCache {
    client: reqwest::Client,
    template: String,
    policy: KeyPolicy,
    tenants: Mutex<HashMap<Uuid, Arc<TenantKeys>>>,
    /// What time it is for the cache's ages (tests move it).
    pub(super) clock: Clock,
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenants = self
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("KeyCache")
            .field("template", &self.template)
            .field("policy", &self.policy)
            .field("tenants", &tenants)
            .finish_non_exhaustive()
    }
}

/// One Entra tenant's keys.
#[derive(Default)]
struct TenantKeys {
    /// The keys in use: read without waiting for a fetch in progress.
    current: RwLock<Option<Arc<KeySet>>>,
    /// Held while fetching, so that one fetch per tenant runs at a time and the requests that
    /// waited for it use its result.
    fetch: tokio::sync::Mutex<FetchState>,
}

struct KeySet {
    /// By key id (`kid`).
    keys: HashMap<String, DecodingKey>,
    fetched: DateTime<Utc>,
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<DateTime<Utc>>,
    /// The last fetch made for a `kid` missing from fresh keys.
    last_refetch: Option<DateTime<Utc>>,
    /// Why the last fetch failed; `None` after a successful one.
    last_error: Option<String>,
}

impl TenantKeys {
    fn current(&self) -> Option<Arc<KeySet>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl KeyCache {
    pub(super) fn new(template: &str, policy: KeyPolicy) -> Result<Self, EntraSetupError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("scimd/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(policy.fetch_timeout)
            .timeout(policy.fetch_timeout)
            .build()
            .map_err(EntraSetupError::Client)?;
        Ok(Self {
            client,
            template: template.to_owned(),
            policy,
            tenants: Mutex::new(HashMap::new()),
            clock: Clock::default(),
        })
    }

    /// The key `kid` of the Entra tenant `tid`, fetching the tenant's keys when it has none
    /// yet, when they are older than [`KeyPolicy::cache_for`], or when `kid` is not among
    /// them and no such refetch was made within [`KeyPolicy::min_refetch`]; after a failed
    /// fetch, not before [`KeyPolicy::retry_after_failure`].
    pub(super) async fn key(&self, tid: Uuid, kid: &str) -> Result<DecodingKey, JwtRefusal> {
        let tenant = self.tenant(tid);
        let fresh = |set: &KeySet| self.clock.since(set.fetched) < self.policy.cache_for;
        let cached = tenant.current().filter(|set| fresh(set));
        if let Some(key) = cached.as_ref().and_then(|set| set.keys.get(kid)) {
            return Ok(key.clone());
        }

        let mut fetch = tenant.fetch.lock().await;
        // Another request may have fetched while this one waited.
        let current = tenant.current();
        let is_fresh = current.as_deref().is_some_and(fresh);
        if let Some(key) = current
            .as_ref()
            .filter(|_| is_fresh)
            .and_then(|set| set.keys.get(kid))
        {
            return Ok(key.clone());
        }
        let since = |at: Option<DateTime<Utc>>, wait: Duration| {
            at.is_none_or(|at| self.clock.since(at) >= wait)
        };
        let may_fetch = if fetch.last_error.is_some() {
            since(fetch.last_attempt, self.policy.retry_after_failure)
        } else if is_fresh {
            // The keys are fresh and `kid` is not among them: the tenant may have published
            // a new key since, or the token is not the tenant's.
            since(fetch.last_refetch, self.policy.min_refetch)
        } else {
            true
        };
        let mut keys = current;
        if may_fetch {
            fetch.last_attempt = Some(self.clock.now());
            if is_fresh {
                fetch.last_refetch = fetch.last_attempt;
            }
            match self.fetch(tid).await {
                Ok(set) => {
                    tracing::info!(entra_tenant = %tid, keys = set.keys.len(), "fetched the Entra tenant's signing keys");
                    let set = Arc::new(set);
                    *tenant
                        .current
                        .write()
                        .unwrap_or_else(PoisonError::into_inner) = Some(set.clone());
                    fetch.last_error = None;
                    keys = Some(set);
                }
                Err(why) => {
                    tracing::warn!(entra_tenant = %tid, error = %why, "could not fetch the Entra tenant's signing keys");
                    fetch.last_error = Some(why);
                }
            }
        }
        // Keys past their time are still used while they cannot be fetched again.
        match (
            keys.as_ref().and_then(|set| set.keys.get(kid)),
            &fetch.last_error,
        ) {
            (Some(key), _) => Ok(key.clone()),
            (None, Some(why)) => Err(JwtRefusal::KeysUnavailable(why.clone())),
            (None, None) => Err(JwtRefusal::UnknownKey),
        }
    }

    fn tenant(&self, tid: Uuid) -> Arc<TenantKeys> {
        self.tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tid)
            .or_default()
            .clone()
    }

    /// The OpenID configuration of `tid`, then the key set its `jwks_uri` names; all within
    /// [`KeyPolicy::fetch_timeout`].
    async fn fetch(&self, tid: Uuid) -> Result<KeySet, String> {
        let metadata_url = self.template.replace(TENANT_PLACEHOLDER, &tid.to_string());
        let fetch = async {
            let metadata: OpenIdConfiguration = self.get_json(&metadata_url).await?;
            let jwks: JwkSet = self.get_json(&metadata.jwks_uri).await?;
            let keys: HashMap<String, DecodingKey> =
                jwks.keys.iter().filter_map(signing_key).collect();
            if keys.is_empty() {
                return Err(format!("{} lists no RSA signing key", metadata.jwks_uri));
            }
            Ok(KeySet {
                keys,
                fetched: self.clock.now(),
            })
        };
        tokio::time::timeout(self.policy.fetch_timeout, fetch)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "{metadata_url} and its key set did not answer within {} ms",
                    self.policy.fetch_timeout.as_millis()
                ))
            })
    }

    /// A JSON document, at most [`MAX_DOCUMENT_BYTES`] long, read within
    /// [`KeyPolicy::fetch_timeout`].
    async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("{url}: {}", chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("{url} answered {status}"));
        }
        let body =
            outbound::read_body(response, MAX_DOCUMENT_BYTES, self.policy.fetch_timeout).await;
        match body.end {
            End::Whole => serde_json::from_slice(&body.bytes)
                .map_err(|e| format!("{url} did not answer the expected JSON: {e}")),
            End::TooLong => Err(format!(
                "{url} answered more than {MAX_DOCUMENT_BYTES} bytes"
            )),
            End::TimedOut => Err(format!(
                "{url} did not send its whole answer within {} ms",
                self.policy.fetch_timeout.as_millis()
            )),
            End::Failed(why) => Err(format!("{url}: {why}")),
        }
    }
}

/// The part of an OpenID configuration that names the keys.
#[derive(Deserialize)]
struct OpenIdConfiguration {
    jwks_uri: String,
}

/// A JSON Web Key Set (RFC 7517 §5); its keys are read one by one, skipping the unusable.
#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

/// A key of the set that can verify RS256 signatures: RSA, for signatures (or unspecified),
/// with a `kid`; others are skipped.
fn signing_key(jwk: &Value) -> Option<(String, DecodingKey)> {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    if field("kty") != Some("RSA") {
        return None;
    }
    if field("use").is_some_and(|u| u != "sig") || field("alg").is_some_and(|a| a != "RS256") {
        return None;
    }
    let kid = field("kid")?;
    let key = DecodingKey::from_rsa_components(field("n")?, field("e")?).ok()?;
    Some((kid.to_owned(), key))
}
