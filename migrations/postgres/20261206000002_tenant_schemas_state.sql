-- Where a registration stands. On PostgreSQL an extension's unique indexes are built with
-- `create unique index concurrently`, outside the registration's transaction, so that no
-- tenant's writes wait while they build: the row is written 'building' first and becomes
-- 'ready' only once every index is valid, in the transaction that bumps `tenants.schemas`.
-- Only 'ready' rows are served. A 'building' row left by an interrupted registration (or
-- removal) is never served and blocks registering the URN again until `scimd schema remove`
-- drops its indexes and deletes it. Rows registered before this migration are 'ready'.

alter table tenant_schemas add column state text not null default 'ready'
    check (state in ('building', 'ready'));
