-- Extension schemas a tenant registers (`scimd schema add`), and what its requests' unknown
-- attributes get. `tenants.schemas` is bumped by every registration or removal, in its
-- transaction, so that every replica knows its copy of the schemas is stale (the change is
-- announced like any change of tenant rules). An attribute with `uniqueness: server` gets a
-- unique index of its own, partial to the tenant, created in the same transaction.

alter table tenants add column unknown_attributes text not null default 'ignore'
    check (unknown_attributes in ('ignore', 'reject'));
alter table tenants add column schemas bigint not null default 0;

create table tenant_schemas (
    tenant_id uuid not null references tenants (id) on delete cascade,
    -- the URN, as registered
    id text not null,
    -- the URN lower-cased: URNs compare case-insensitively (RFC 7643 §2.1)
    urn_key text not null,
    resource_type text not null check (resource_type in ('User', 'Group')),
    -- the schema document as scimd read it (RFC 7643 §7)
    document jsonb not null,
    created timestamptz not null,
    primary key (tenant_id, id)
);

create unique index tenant_schemas_urn on tenant_schemas (tenant_id, urn_key);

-- attribute names the tenant's requests sent that no schema defines, per tenant and name
alter table activity add column ignored text;
