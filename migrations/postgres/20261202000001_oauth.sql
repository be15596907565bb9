-- OAuth 2.0 (RFC 6749) for Entra's "Authorize" button and client credentials: the
-- application's admins who may sign in, OAuth clients per tenant, single-use authorization
-- codes, rotating refresh tokens; access tokens are rows of `tokens` with an expiry.
-- Secrets are stored as hashes only: passwords as Argon2id PHC strings, random secrets,
-- codes and tokens as SHA-256.

-- the Entra tenant whose own signed tokens (Secret Token left blank) this tenant accepts; an
-- Entra token names no scimd tenant, so one Entra tenant selects at most one scimd tenant
alter table tenants add column entra_tenant_id uuid;
create unique index tenants_entra_tenant on tenants (entra_tenant_id);

create table admins (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    username text not null,
    -- lower-cased username: sign-in ignores case
    username_key text not null,
    password_hash text not null,
    team_admin boolean not null,
    created timestamptz not null,
    constraint admins_username_key unique (username_key, tenant_id)
);

create table oauth_clients (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    client_id text not null,
    secret_hash bytea not null,
    redirect_uris text[] not null,
    created timestamptz not null,
    constraint oauth_clients_client_id_key unique (client_id)
);

create index oauth_clients_tenant on oauth_clients (tenant_id);

create table oauth_codes (
    code_hash bytea primary key,
    client_id uuid not null references oauth_clients (id) on delete cascade,
    tenant_id uuid not null references tenants (id) on delete cascade,
    admin_id uuid not null,
    redirect_uri text,
    code_challenge text,
    code_challenge_method text,
    -- the tokens issued for this code share it: a reused code revokes them
    family uuid not null,
    expires_at timestamptz not null,
    used_at timestamptz
);

create table refresh_tokens (
    token_hash bytea primary key,
    client_id uuid not null references oauth_clients (id) on delete cascade,
    tenant_id uuid not null references tenants (id) on delete cascade,
    family uuid not null,
    created timestamptz not null,
    expires_at timestamptz not null,
    -- set when the token was exchanged for the next one (rotation)
    used_at timestamptz,
    revoked_at timestamptz
);

create index refresh_tokens_family on refresh_tokens (family);

alter table tokens
    add column expires_at timestamptz,
    add column client_id uuid references oauth_clients (id) on delete cascade,
    add column family uuid;

create index tokens_family on tokens (family) where family is not null;
create index tokens_client on tokens (client_id) where client_id is not null;
