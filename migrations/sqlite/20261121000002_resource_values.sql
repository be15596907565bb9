-- The string values inside multi-valued complex attributes (`emails.value`, `emails.type`, …) of
-- the folded document, one row each: SQLite's counterpart of PostgreSQL's GIN index on
-- `search`, so that `emails[type eq "work"].value eq "x"` is an index lookup. Kept by the store
-- in the transaction of every write; `seq` is unique across tenants.

create table resource_values (
    seq integer not null references resources (seq) on delete cascade,
    attribute text not null,
    value text not null
);

create index resource_values_lookup on resource_values (attribute, value, seq);
create index resource_values_seq on resource_values (seq);

-- existing resources, computed exactly as the store computes them
insert into resource_values (seq, attribute, value)
select r.seq, a.key || '.' || f.key, f.value
from resources r, json_each(r.search) a, json_each(a.value) e, json_each(e.value) f
where a.type = 'array' and e.type = 'object' and f.type = 'text';
