-- Per-tenant directory rules from the GoToMeeting tutorial: the attribute users are matched on
-- (unique in the tenant, enforced here) and the roles a user may or must carry.

alter table tenants
    add column matching_attribute text not null default 'userName'
        check (matching_attribute in ('userName', 'externalId', 'emails[type eq "work"].value')),
    add column allowed_roles text[],
    add column require_role boolean not null default false;

-- the matching attribute's value (folded as filters compare it) when it is not userName, which
-- resources_name_key already keeps unique
alter table resources add column match_key text;

create unique index resources_match_key on resources (tenant_id, match_key)
    where resource_type = 'User' and match_key is not null;
