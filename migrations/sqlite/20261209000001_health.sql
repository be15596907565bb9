-- Each tenant's provisioning health: the tables of
-- migrations/postgres/20261209000001_health.sql.
create table tenant_health (
    tenant_id text primary key references tenants (id) on delete cascade,
    state text not null,
    rank integer not null,
    since integer not null,
    reasons text not null,
    checked integer not null,
    last_accepted integer
);
create index tenant_health_worst on tenant_health (rank desc, tenant_id);

create table health_changes (
    seq integer primary key autoincrement,
    id text not null unique,
    tenant_id text not null references tenants (id) on delete cascade,
    previous text,
    state text not null,
    at integer not null,
    reasons text not null
);
create index health_changes_tenant on health_changes (tenant_id, seq);
