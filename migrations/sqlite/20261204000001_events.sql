-- SCIM events (RFC 9967): the tables of migrations/postgres/20261204000001_events.sql.

create table subscriptions (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    url text not null,
    events integer not null,
    full_data integer not null default 0,
    secret text not null,
    paused integer not null default 0,
    created integer not null,
    leased_by text,
    lease_until integer,
    retry_at integer,
    delivered integer not null default 0,
    failed integer not null default 0,
    last_success integer,
    last_error text,
    last_error_at integer
);

create index subscriptions_tenant on subscriptions (tenant_id);

create table events (
    seq integer primary key autoincrement,
    id text not null,
    tenant_id text not null references tenants (id) on delete cascade,
    at integer not null,
    txn text not null,
    resource_type text not null,
    resource_id text not null,
    kinds integer not null,
    attributes text,
    version integer,
    external_id text,
    data text
);

create index events_tenant on events (tenant_id, seq);

create table deliveries (
    subscription_id text not null references subscriptions (id) on delete cascade,
    seq integer not null,
    state text not null default 'pending',
    attempts integer not null default 0,
    first_failure integer,
    failed_at integer,
    last_status integer,
    last_error text,
    primary key (subscription_id, seq)
);
