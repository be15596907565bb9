-- The SQLite schema, mirroring migrations/postgres (same tables, keys, indexes and constraints).
-- Ids are text (hyphenated lower-case UUIDs), instants are integer milliseconds since the epoch,
-- documents are JSON text.

create table tenants (
    id text primary key,
    name text not null,
    created integer not null,
    matching_attribute text not null default 'userName'
        check (matching_attribute in ('userName', 'externalId', 'emails[type eq "work"].value')),
    -- JSON array of role values; null: any
    allowed_roles text,
    require_role integer not null default 0,
    constraint tenants_name_key unique (name)
);

create table tokens (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    label text,
    -- SHA-256 of the token; the token itself is never stored.
    token_hash blob not null,
    created integer not null,
    revoked_at integer,
    constraint tokens_token_hash_key unique (token_hash)
);

create index tokens_tenant on tokens (tenant_id);

create table resources (
    -- insertion order: the stable listing order
    seq integer primary key autoincrement,
    tenant_id text not null references tenants (id) on delete cascade,
    id text not null,
    resource_type text not null check (resource_type in ('User', 'Group')),
    version integer not null,
    created integer not null,
    last_modified integer not null,
    name_key text not null,
    external_id text,
    active integer,
    doc text not null,
    search text not null,
    match_key text,
    constraint resources_tenant_id_key unique (tenant_id, id)
);

create unique index resources_name_key on resources (tenant_id, resource_type, name_key);
create index resources_external_id on resources (tenant_id, resource_type, external_id);
create index resources_listing on resources (tenant_id, resource_type, seq);
create unique index resources_match_key on resources (tenant_id, match_key)
    where resource_type = 'User' and match_key is not null;

create table memberships (
    seq integer primary key autoincrement,
    tenant_id text not null,
    group_id text not null,
    member_id text not null,
    display text,
    unique (tenant_id, group_id, member_id),
    foreign key (tenant_id, group_id) references resources (tenant_id, id) on delete cascade,
    foreign key (tenant_id, member_id) references resources (tenant_id, id) on delete cascade,
    check (group_id <> member_id)
);

create index memberships_member on memberships (tenant_id, member_id);
create index memberships_group_order on memberships (tenant_id, group_id, seq);
