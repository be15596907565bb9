-- Setup links (the customer's identity admin connects on their own): a capability URL for one
-- tenant, kept as the SHA-256 of its token, expiring and revocable; and when a tenant was first
-- reached with one of its credentials (Entra's Test Connection), for the setup page and health.
create table setup_links (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    token_hash bytea not null,
    created timestamptz not null,
    -- who made it: the audit trail's actor kind and name
    created_by text not null,
    expires timestamptz not null,
    revoked timestamptz,
    last_used timestamptz,
    constraint setup_links_hash unique (token_hash)
);
create index setup_links_tenant on setup_links (tenant_id, created);

alter table tenants add column connected timestamptz;
-- the credential of that first request, as the activity log names it (never a secret)
alter table tenants add column connected_with text;
