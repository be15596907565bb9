-- The indexes of migrations/postgres/20261201000001_plans_without_statistics.sql: the listing
-- order under its own key `scope`, externalId and memberships by the column that decides. (SQLite
-- plans each statement when it is prepared, and prefers the index with the most equalities, so
-- it never had PostgreSQL's problem; the schemas are kept alike.)

alter table resources
    add column scope text generated always as (tenant_id || ':' || resource_type) virtual;

drop index resources_listing;
create index resources_listing on resources (scope, seq);

drop index resources_external_id;
create index resources_external_id on resources (external_id, tenant_id, resource_type);

drop index memberships_member;
create index memberships_member on memberships (member_id, tenant_id);
drop index memberships_group_order;
