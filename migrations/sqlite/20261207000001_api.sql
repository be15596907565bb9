-- The application's API: the tables of migrations/postgres/20261207000001_api.sql (operator
-- keys, the audit trail, the answers of Idempotency-Key requests).
create table operator_keys (
    id text primary key,
    name text not null,
    -- may read, not change
    read_only boolean not null default false,
    key_hash blob not null,
    created integer not null,
    last_used integer,
    constraint operator_keys_hash unique (key_hash)
);
create unique index operator_keys_name on operator_keys (lower(name));

create table audit (
    seq integer primary key autoincrement,
    id text not null unique,
    at integer not null,
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

create table idempotency (
    operator_key_id text not null references operator_keys (id) on delete cascade,
    idempotency_key text not null,
    request_hash blob not null,
    status integer not null,
    body text not null,
    withheld integer not null,
    created integer not null,
    primary key (operator_key_id, idempotency_key)
);
create index idempotency_created on idempotency (created);
