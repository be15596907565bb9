-- OAuth 2.0: the tables of migrations/postgres/20261202000001_oauth.sql (admins, OAuth clients,
-- single-use codes, rotating refresh tokens; access tokens are rows of `tokens` with an expiry).

alter table tenants add column entra_tenant_id text;
create unique index tenants_entra_tenant on tenants (entra_tenant_id);

create table admins (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    username text not null,
    username_key text not null,
    password_hash text not null,
    team_admin integer not null,
    created integer not null,
    constraint admins_username_key unique (username_key, tenant_id)
);

create table oauth_clients (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    client_id text not null,
    secret_hash blob not null,
    -- JSON array of the registered redirect URIs
    redirect_uris text not null,
    created integer not null,
    constraint oauth_clients_client_id_key unique (client_id)
);

create index oauth_clients_tenant on oauth_clients (tenant_id);

create table oauth_codes (
    code_hash blob primary key,
    client_id text not null references oauth_clients (id) on delete cascade,
    tenant_id text not null references tenants (id) on delete cascade,
    admin_id text not null,
    redirect_uri text,
    code_challenge text,
    code_challenge_method text,
    family text not null,
    expires_at integer not null,
    used_at integer
);

create table refresh_tokens (
    token_hash blob primary key,
    client_id text not null references oauth_clients (id) on delete cascade,
    tenant_id text not null references tenants (id) on delete cascade,
    family text not null,
    created integer not null,
    expires_at integer not null,
    used_at integer,
    revoked_at integer
);

create index refresh_tokens_family on refresh_tokens (family);

alter table tokens add column expires_at integer;
alter table tokens add column client_id text references oauth_clients (id) on delete cascade;
alter table tokens add column family text;

create index tokens_family on tokens (family) where family is not null;
create index tokens_client on tokens (client_id) where client_id is not null;
