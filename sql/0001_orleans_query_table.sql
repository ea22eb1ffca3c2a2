-- 0001: registry of the SQL that the Orleans ADO.NET providers run.
--
-- Contract: Microsoft.Orleans.{Clustering,Persistence,Reminders}.AdoNet 10.4.2,
-- invariant "Npgsql". At start-up every provider runs
--     SELECT QueryKey, QueryText FROM OrleansQuery
-- (the storage provider adds a WHERE on its four keys), builds a
-- dictionary from the rows, and from then on executes QueryText verbatim,
-- binding its own named parameters (@Name). The later migrations fill
-- this table; nothing here is specific to one provider.
--
-- Names are left unquoted on purpose: the providers' own SELECT above is
-- unquoted, so the table must resolve to the folded name "orleansquery".

CREATE TABLE OrleansQuery
(
    -- The provider looks keys up by exact (case-sensitive) string, e.g.
    -- 'GatewaysQueryKey', so the stored value must match the provider's
    -- spelling character for character.
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,

    CONSTRAINT pk_orleansquery PRIMARY KEY (QueryKey)
);
