-- Setup links and a tenant's first authenticated request: the tables of
-- migrations/postgres/20261208000001_setup.sql.
create table setup_links (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    token_hash blob not null unique,
    created integer not null,
    created_by text not null,
    expires integer not null,
    revoked integer,
    last_used integer
);
create index setup_links_tenant on setup_links (tenant_id, created);

alter table tenants add column connected integer;
alter table tenants add column connected_with text;
