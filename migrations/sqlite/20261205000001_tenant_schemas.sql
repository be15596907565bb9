-- Extension schemas per tenant: the tables of migrations/postgres/20261205000001_tenant_schemas.sql.

alter table tenants add column unknown_attributes text not null default 'ignore'
    check (unknown_attributes in ('ignore', 'reject'));
alter table tenants add column schemas integer not null default 0;

create table tenant_schemas (
    tenant_id text not null references tenants (id) on delete cascade,
    id text not null,
    -- the URN lower-cased: URNs compare case-insensitively (RFC 7643 §2.1)
    urn_key text not null,
    resource_type text not null check (resource_type in ('User', 'Group')),
    document text not null,
    created integer not null,
    primary key (tenant_id, id)
);

create unique index tenant_schemas_urn on tenant_schemas (tenant_id, urn_key);

alter table activity add column ignored text;
