-- The provisioning activity log: one row per SCIM request that changed something (written in
-- the change's own transaction) or was refused. No personal data: ids, routes, attribute paths,
-- statuses and error details with their values left out. Lookups are counted per minute.

create table activity (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    at timestamptz not null,
    -- `at` truncated to the minute: cycles are grouped by it
    minute timestamptz not null,
    request_id text not null,
    -- which credential: 'token <id>', 'oauth <client_id>', 'entra <tenant id>'
    credential text not null,
    method text not null,
    route text not null,
    resource_type text,
    resource_id uuid,
    -- create, replace, patch, delete; for refusals also read, search
    operation text not null,
    -- the attribute paths a PATCH touched, e.g. 'active, members+3'
    paths text,
    -- a user's active went from true (or absent) to false
    deactivated boolean not null default false,
    status bigint not null,
    scim_type text,
    error text
);

create index activity_tenant_at on activity (tenant_id, at);
create index activity_resource on activity (resource_id, tenant_id);
create index activity_request on activity (request_id);

create table activity_lookups (
    tenant_id uuid not null references tenants (id) on delete cascade,
    minute timestamptz not null,
    lookups bigint not null,
    primary key (tenant_id, minute)
);
