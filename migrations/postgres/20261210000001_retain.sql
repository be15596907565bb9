-- The deprovisioning policy (issue 26, items 1 and 2). `on_delete`: what a SCIM `DELETE` of a
-- user does, `delete` (the default, for new and existing tenants) or `retain` for
-- `retain_for_secs` (30 days by default); `restore_on_create`: whether a create whose
-- `externalId` is a retained user's restores that user with its id.
--
-- A retained user leaves `resources` for `retained_resources` in the delete's transaction,
-- so that no SCIM query, filter or unique index of `resources` has to tell retained rows
-- apart: its userName, matching key and extension unique values are free again, its
-- memberships go as a delete's do. A restore moves it back, a purge deletes it.
-- The activity log and the events say which happened (`lifecycle`: `retained until …`,
-- `restored`).

alter table tenants add column on_delete text not null default 'delete'
    check (on_delete in ('delete', 'retain'));
alter table tenants add column retain_for_secs bigint not null default 2592000
    check (retain_for_secs > 0);
alter table tenants add column restore_on_create boolean not null default true;

alter table activity add column lifecycle text;
alter table events add column lifecycle text;

create table retained_resources (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    resource_type text not null check (resource_type in ('User', 'Group')),
    -- the version it had when deleted; a restore writes the next one
    version bigint not null,
    created timestamptz not null,
    name_key text not null,
    external_id text,
    doc jsonb not null,
    deleted_at timestamptz not null,
    purge_after timestamptz not null,
    primary key (tenant_id, id)
);

-- the operator's listing, in the order of deletion
create index retained_resources_listing on retained_resources (tenant_id, deleted_at, id);
-- a create's lookup by externalId (exact)
create index retained_resources_external_id
    on retained_resources (tenant_id, resource_type, external_id);
-- the purge's scan across tenants
create index retained_resources_purge on retained_resources (purge_after);
