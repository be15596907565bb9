-- SCIM events (RFC 9967) from a transactional outbox. `events` holds one row per committed
-- change of a user or group, written in the change's own transaction (or statement);
-- `deliveries` one row per event and subscription that still has to be delivered (or was
-- dropped or parked); `subscriptions` the receivers, their secret, their lease and their state.

create table subscriptions (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    url text not null,
    -- the event kinds wanted, as a bit mask (create 1, patch 2, put 4, delete 8, activate 16,
    -- deactivate 32)
    events bigint not null,
    -- `full` events (the resource in `data`) instead of `notice` (the attribute names)
    full_data boolean not null default false,
    -- the HS256 signing key; it signs, so it is kept (shown once, never listed)
    secret text not null,
    paused boolean not null default false,
    created timestamptz not null,
    -- the scimd process delivering now, until when
    leased_by text,
    lease_until timestamptz,
    -- no delivery before this time (the receiver asked to wait, or failed)
    retry_at timestamptz,
    delivered bigint not null default 0,
    failed bigint not null default 0,
    last_success timestamptz,
    last_error text,
    last_error_at timestamptz
);

create index subscriptions_tenant on subscriptions (tenant_id);

create table events (
    seq bigint generated always as identity primary key,
    -- the SET's `jti` is derived from it, per subscription
    id uuid not null,
    tenant_id uuid not null references tenants (id) on delete cascade,
    at timestamptz not null,
    -- the request that made the change (RFC 9967 §2.2 `txn`)
    txn text not null,
    resource_type text not null,
    resource_id uuid not null,
    -- bit mask as in subscriptions.events
    kinds bigint not null,
    -- the attributes changed, comma-separated
    attributes text,
    version bigint,
    external_id text,
    -- the resource as stored, kept only while a subscription of the tenant wants `full` events
    data jsonb
);

create index events_tenant on events (tenant_id, seq);

create table deliveries (
    subscription_id uuid not null references subscriptions (id) on delete cascade,
    seq bigint not null,
    -- pending, dropped (the receiver refused the SET), parked (retried too long)
    state text not null default 'pending',
    attempts bigint not null default 0,
    first_failure timestamptz,
    failed_at timestamptz,
    last_status bigint,
    last_error text,
    primary key (subscription_id, seq)
);
