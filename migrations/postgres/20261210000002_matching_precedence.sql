-- Matching precedence (issue 26, item 4): a tenant names several matching attributes, in the
-- order of Entra's "Matching precedence" (`scimd tenant set T --matching-attribute userName
-- --matching-attribute externalId`), and each is unique among its users at once.
--
-- `tenants.matching_attributes` holds the list, precedence 1 first; `matching_attribute` keeps
-- precedence 1 (so a binary of before the list still reads a valid rule).
--
-- One key column per attribute that is not userName (which `resources_name_key` keeps unique):
-- `external_key` (externalId) and `email_key` (the folded work email), each filled only while
-- the tenant lists its attribute and kept unique by a partial index of its own, so that two
-- attributes are unique at once and a 409 says which one repeats. The single `match_key` they
-- replace is moved into them and dropped. Each index starts with the key, the column that
-- decides (20261201000001_plans_without_statistics.sql).

alter table tenants add column matching_attributes text[] not null default '{userName}';
update tenants set matching_attributes = array[matching_attribute];

alter table resources add column external_key text, add column email_key text;
update resources r set external_key = r.match_key
    from tenants t
    where t.id = r.tenant_id and t.matching_attribute = 'externalId' and r.match_key is not null;
update resources r set email_key = r.match_key
    from tenants t
    where t.id = r.tenant_id and t.matching_attribute = 'emails[type eq "work"].value'
      and r.match_key is not null;

create unique index resources_external_key on resources (external_key, tenant_id)
    where resource_type = 'User' and external_key is not null;
create unique index resources_email_key on resources (email_key, tenant_id)
    where resource_type = 'User' and email_key is not null;

drop index resources_match_key;
alter table resources drop column match_key;
