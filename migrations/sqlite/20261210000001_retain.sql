-- The deprovisioning policy and the retained users of
-- migrations/postgres/20261210000001_retain.sql.

alter table tenants add column on_delete text not null default 'delete'
    check (on_delete in ('delete', 'retain'));
alter table tenants add column retain_for_secs integer not null default 2592000
    check (retain_for_secs > 0);
alter table tenants add column restore_on_create integer not null default 1;

alter table activity add column lifecycle text;
alter table events add column lifecycle text;

create table retained_resources (
    tenant_id text not null references tenants (id) on delete cascade,
    id text not null,
    resource_type text not null check (resource_type in ('User', 'Group')),
    version integer not null,
    created integer not null,
    name_key text not null,
    external_id text,
    doc text not null,
    deleted_at integer not null,
    purge_after integer not null,
    primary key (tenant_id, id)
);

create index retained_resources_listing on retained_resources (tenant_id, deleted_at, id);
create index retained_resources_external_id
    on retained_resources (tenant_id, resource_type, external_id);
create index retained_resources_purge on retained_resources (purge_after);
