-- A tenant's share of the server, as in migrations/postgres/20261210000003_tenant_limits.sql.

alter table tenants add column rate_limit integer check (rate_limit between 1 and 100000);
alter table tenants add column max_in_flight integer check (max_in_flight between 1 and 10000);
