-- The provisioning activity log: the tables of migrations/postgres/20261203000001_activity.sql.

create table activity (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    at integer not null,
    minute integer not null,
    request_id text not null,
    credential text not null,
    method text not null,
    route text not null,
    resource_type text,
    resource_id text,
    operation text not null,
    paths text,
    deactivated integer not null default 0,
    status integer not null,
    scim_type text,
    error text
);

create index activity_tenant_at on activity (tenant_id, at);
create index activity_resource on activity (resource_id, tenant_id);
create index activity_request on activity (request_id);

create table activity_lookups (
    tenant_id text not null references tenants (id) on delete cascade,
    minute integer not null,
    lookups integer not null,
    primary key (tenant_id, minute)
);
