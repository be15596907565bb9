-- Tenants, their bearer tokens, and resources stored as canonical SCIM JSON with shadow columns
-- for what is indexed or constrained (DESIGN.md "Data model").

create table tenants (
    id uuid primary key,
    name text not null,
    created timestamptz not null default now(),
    constraint tenants_name_key unique (name)
);

create table tokens (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    label text,
    -- SHA-256 of the token; the token itself is never stored.
    token_hash bytea not null,
    created timestamptz not null default now(),
    revoked_at timestamptz,
    constraint tokens_token_hash_key unique (token_hash)
);

create index tokens_tenant on tokens (tenant_id);

create table resources (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    -- insertion order: the stable listing order
    seq bigint generated always as identity,
    resource_type text not null check (resource_type in ('User', 'Group')),
    version bigint not null,
    created timestamptz not null,
    last_modified timestamptz not null,
    -- lower-cased userName (User) or displayName (Group), computed by scimd
    name_key text not null,
    external_id text,
    active boolean,
    doc jsonb not null,
    -- the document with caseExact=false strings lower-cased: what filters and sorting compare
    search jsonb not null,
    primary key (tenant_id, id)
);

-- userName / group displayName are unique per tenant, case-insensitively (409 uniqueness).
create unique index resources_name_key on resources (tenant_id, resource_type, name_key);
create index resources_external_id on resources (tenant_id, resource_type, external_id);
create index resources_listing on resources (tenant_id, resource_type, seq);
-- eq filters compile to containment (search @> '{"emails":[{"type":"work","value":"x"}]}')
create index resources_search on resources using gin (search jsonb_path_ops);
