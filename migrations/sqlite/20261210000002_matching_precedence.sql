-- The matching precedence of migrations/postgres/20261210000002_matching_precedence.sql: the
-- list of matching attributes (a JSON array, precedence 1 first; `matching_attribute` keeps
-- precedence 1), and a key column per attribute that is not userName, each unique per tenant
-- while the tenant lists it, in place of the single `match_key`.

alter table tenants add column matching_attributes text not null default '["userName"]';
update tenants set matching_attributes = json_array(matching_attribute);

alter table resources add column external_key text;
alter table resources add column email_key text;
update resources set external_key = match_key
    where match_key is not null and resource_type = 'User' and tenant_id in
        (select id from tenants where matching_attribute = 'externalId');
update resources set email_key = match_key
    where match_key is not null and resource_type = 'User' and tenant_id in
        (select id from tenants where matching_attribute = 'emails[type eq "work"].value');

create unique index resources_external_key on resources (external_key, tenant_id)
    where resource_type = 'User' and external_key is not null;
create unique index resources_email_key on resources (email_key, tenant_id)
    where resource_type = 'User' and email_key is not null;

drop index resources_match_key;
alter table resources drop column match_key;
