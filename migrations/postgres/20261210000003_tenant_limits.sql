-- A tenant's share of the server (issue 27): its own rate of SCIM requests per second (null:
-- none) and its own ceiling of SCIM requests in flight (null: SCIMD_TENANT_MAX_IN_FLIGHT).

alter table tenants add column rate_limit bigint check (rate_limit between 1 and 100000);
alter table tenants add column max_in_flight bigint check (max_in_flight between 1 and 10000);
