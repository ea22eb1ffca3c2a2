-- 0003: grain state storage for Orleans AdoNetGrainStorage on PostgreSQL.
--
-- Contract: Microsoft.Orleans.Persistence.AdoNet 10.4.2, invariant
-- "Npgsql". Requires 0001 (OrleansQuery) and PostgreSQL 15 or later
-- (UNIQUE ... NULLS NOT DISTINCT). Plain SQL only, no functions: each
-- operation below is a single statement, so none was needed.
--
-- How the provider uses this (learned from the 10.4.2 assembly):
--   * Keys: WriteToStorageKey, ReadFromStorageKey, ClearStorageKey
--     (required) and DeleteStorageKey (required once DeleteStateOnClear is
--     true; the provider refuses to start without it).
--   * Every call binds the grain identity: @GrainIdHash int4,
--     @GrainTypeHash int4, @GrainIdN0 int8, @GrainIdN1 int8,
--     @GrainTypeString text, @GrainIdExtensionString text or NULL,
--     @ServiceId text. Integer keys use N1 (N0 = 0), Guid keys use both,
--     string keys use N0 = N1 = 0 and put the key in the extension string.
--     The two hashes come from the provider's configured hasher.
--   * Write, clear and delete also bind @GrainStateVersion (int4, NULL when
--     the grain holds no ETag); write binds @PayloadBinary (bytea).
--   * ETag = the row's Version as text. The provider reads ONE row back
--     and treats as a conflict (InconsistentStateException) any result that
--     is NULL, missing, or equal to the ETag it sent. Our statements
--     therefore always return exactly one row, holding the new version on
--     success and NULL on a version mismatch.
--   * Read returns PayloadBinary and Version; a row whose PayloadBinary is
--     NULL means "state was cleared": the grain starts from defaults but
--     keeps the ETag.
--
-- Concurrency: an UPDATE that matches on Version is its own optimistic
-- check (a concurrent writer waits for the row lock, re-checks, and
-- matches nothing). A first write (no ETag) relies on the unique index
-- below: two racing first writers cannot both insert, the loser gets NULL.

CREATE TABLE OrleansStorage
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        text         NOT NULL,
    GrainIdExtensionString text         NULL,
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NOT NULL
);

-- One row per grain state. The hashes lead so lookups are narrow; the two
-- free-form strings are indexed through md5() (used only as a compact
-- fingerprint) so that arbitrarily long string keys cannot exceed the
-- btree entry size. NULLS NOT DISTINCT (PostgreSQL 15+) makes a NULL
-- extension string count as one value, so an integer- or Guid-keyed grain
-- without extension can also have only one row.
CREATE UNIQUE INDEX ix_orleansstorage
    ON OrleansStorage (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1, ServiceId,
                       md5(GrainTypeString), md5(GrainIdExtensionString))
    NULLS NOT DISTINCT;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

('ReadFromStorageKey', $q$
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash
  AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0
  AND GrainIdN1 = @GrainIdN1
  AND ServiceId = @ServiceId
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString;
$q$),

-- With an ETag: overwrite the row whose Version equals it and bump the
-- version. Without one: create the row at version 1, unless any row for
-- this grain already exists (then the grain's view is stale -> conflict).
-- Exactly one of the two branches can produce a row.
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE OrleansStorage AS s
    SET PayloadBinary = @PayloadBinary,
        ModifiedOn = now(),
        Version = s.Version + 1
    WHERE @GrainStateVersion IS NOT NULL
      AND s.GrainIdHash = @GrainIdHash
      AND s.GrainTypeHash = @GrainTypeHash
      AND s.GrainIdN0 = @GrainIdN0
      AND s.GrainIdN1 = @GrainIdN1
      AND s.ServiceId = @ServiceId
      AND s.GrainTypeString = @GrainTypeString
      AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND s.Version = @GrainStateVersion
    RETURNING s.Version
),
inserted AS (
    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
         GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
    SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
           @GrainIdExtensionString, @ServiceId, @PayloadBinary, now(), 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING Version
)
SELECT (SELECT Version FROM updated
        UNION ALL
        SELECT Version FROM inserted) AS NewGrainStateVersion;
$q$),

-- ClearState with DeleteStateOnClear = false: keep the row, drop the
-- payload, bump the version (the grain keeps the new version as ETag).
('ClearStorageKey', $q$
WITH cleared AS (
    UPDATE OrleansStorage AS s
    SET PayloadBinary = NULL,
        ModifiedOn = now(),
        Version = s.Version + 1
    WHERE s.GrainIdHash = @GrainIdHash
      AND s.GrainTypeHash = @GrainTypeHash
      AND s.GrainIdN0 = @GrainIdN0
      AND s.GrainIdN1 = @GrainIdN1
      AND s.ServiceId = @ServiceId
      AND s.GrainTypeString = @GrainTypeString
      AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND s.Version = @GrainStateVersion
    RETURNING s.Version
)
SELECT (SELECT Version FROM cleared) AS NewGrainStateVersion;
$q$),

-- ClearState with DeleteStateOnClear = true: remove the row if its
-- version still equals the ETag. The provider discards the returned value
-- (the grain's ETag becomes null) but first compares it with the ETag it
-- sent, and equal means conflict -- so success returns the deleted
-- version + 1, never the ETag itself.
('DeleteStorageKey', $q$
WITH removed AS (
    DELETE FROM OrleansStorage AS s
    WHERE s.GrainIdHash = @GrainIdHash
      AND s.GrainTypeHash = @GrainTypeHash
      AND s.GrainIdN0 = @GrainIdN0
      AND s.GrainIdN1 = @GrainIdN1
      AND s.ServiceId = @ServiceId
      AND s.GrainTypeString = @GrainTypeString
      AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND s.Version = @GrainStateVersion
    RETURNING s.Version
)
SELECT (SELECT Version + 1 FROM removed) AS NewGrainStateVersion;
$q$);
