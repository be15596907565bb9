-- Operator accounts and their sessions: the tables of
-- migrations/postgres/20261209000003_operator_accounts.sql.
create table operator_accounts (
    id text primary key,
    username text not null,
    username_key text not null,
    password_hash text not null,
    password_version integer not null default 0,
    created integer not null,
    constraint operator_accounts_username_key unique (username_key)
);

create table operator_sessions (
    session_hash blob primary key,
    account_id text not null references operator_accounts (id) on delete cascade,
    csrf text not null,
    password_version integer not null,
    created integer not null,
    last_seen integer not null
);
create index operator_sessions_account on operator_sessions (account_id);
