-- The application's API (/api/v1): operator keys, the audit trail of administration, and the
-- answers of requests an Idempotency-Key may repeat.

-- Keys of the application's backend: stored as SHA-256 only, shown once; valid at /api/v1 only.
create table operator_keys (
    id uuid primary key,
    name text not null,
    -- may read, not change
    read_only boolean not null default false,
    key_hash bytea not null,
    created timestamptz not null,
    last_used timestamptz,
    constraint operator_keys_hash unique (key_hash)
);
create unique index operator_keys_name on operator_keys (lower(name));

-- Every change of administration (tenants, credentials, admins, webhooks, schemas, keys) made
-- through the API, the CLI or the console: who, what, which tenant, when, from where. No
-- secret is ever written here. Rows outlive a deleted tenant (no foreign key), until the
-- retention prunes them.
create table audit (
    -- the order entries were written in (newest first when read)
    seq bigint generated always as identity primary key,
    id uuid not null unique,
    at timestamptz not null,
    actor_kind text not null,
    actor text not null,
    address text,
    action text not null,
    tenant text,
    target text,
    detail text
);
create index audit_at on audit (at);
create index audit_tenant on audit (tenant, seq);

-- What a write with an Idempotency-Key answered, per operator key, so that a retry gets the
-- same answer instead of a second change. A secret in the answer is never kept: its replay
-- says so instead.
create table idempotency (
    operator_key_id uuid not null references operator_keys (id) on delete cascade,
    idempotency_key text not null,
    request_hash bytea not null,
    status bigint not null,
    body text not null,
    withheld boolean not null,
    created timestamptz not null,
    primary key (operator_key_id, idempotency_key)
);
create index idempotency_created on idempotency (created);
