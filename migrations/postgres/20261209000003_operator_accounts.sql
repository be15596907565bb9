-- Operator accounts: the application's team (support engineers) who sign in to the operator
-- page at /operator, which shows every tenant's health. Not a tenant's admin, not an operator
-- key: an account of its own, with a password (an Argon2id PHC string, like admins'), whose
-- change (password_version) ends the account's sessions.
create table operator_accounts (
    id uuid primary key,
    username text not null,
    -- lower-cased username: sign-in ignores case, and so does uniqueness
    username_key text not null,
    password_hash text not null,
    password_version bigint not null default 0,
    created timestamptz not null,
    constraint operator_accounts_username_key unique (username_key)
);

-- Sessions of the operator page: the cookie's SHA-256, the account, the CSRF token of its
-- forms, the password version it was opened with, when it opened (it ends LIFETIME after) and
-- when it was last used (it ends IDLE after).
create table operator_sessions (
    session_hash bytea primary key,
    account_id uuid not null references operator_accounts (id) on delete cascade,
    csrf text not null,
    password_version bigint not null,
    created timestamptz not null,
    last_seen timestamptz not null
);
create index operator_sessions_account on operator_sessions (account_id);
