-- 0002: cluster membership for Orleans ADO.NET clustering on PostgreSQL.
--
-- Contract: Microsoft.Orleans.Clustering.AdoNet 10.4.2 (silo membership
-- table and the client's gateway list provider), invariant "Npgsql".
-- Requires 0001 (OrleansQuery).
--
-- How the provider uses this (learned from the 10.4.2 assembly):
--   * It refuses to start unless all nine required keys below exist.
--     CleanupDefunctSiloEntryKey is optional; when present the provider
--     prefers it over CleanupDefunctSiloEntriesKey (see the two rows at
--     the end).
--   * "DeploymentId" is Orleans' ClusterId.
--   * The table version is an optimistic lock over the whole cluster's
--     membership. Reads return it with every row; InsertMembershipKey and
--     UpdateMembershipKey receive the version the silo last read as
--     @Version, must succeed only while the stored version still equals
--     it, and must then increment it -- all in one atomic step. They return
--     one row with one boolean column (true = applied).
--   * Read queries must always return at least one row (the version row
--     alone when no silo rows match): the provider takes the version from
--     the first row and treats a row with NULL StartTime as "no member".
--   * Result columns are looked up by name (case-insensitively):
--     Address, Port, Generation, SiloName, HostName, Status, ProxyPort,
--     SuspectTimes, StartTime, IAmAliveTime, Version.
--   * Parameter types as bound: @Address text, @Port/@Generation/@Status/
--     @ProxyPort/@Version int4, @StartTime/@IAmAliveTime UTC DateTime,
--     @SuspectTimes text or NULL ("silo,date|silo,date" as Orleans formats
--     it), @SiloName/@HostName/@DeploymentId text.
--   * Status codes (Orleans.Runtime.SiloStatus): 3 = Active, 6 = Dead.
--
-- Timestamps are timestamptz so that UTC instants survive regardless of
-- the session TimeZone setting.

CREATE TABLE OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Timestamp    timestamptz  NOT NULL DEFAULT now(),
    Version      integer      NOT NULL DEFAULT 0,

    CONSTRAINT pk_orleansmembershipversiontable PRIMARY KEY (DeploymentId)
);

CREATE TABLE OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address      text         NOT NULL,   -- IPAddress.ToString(): IPv4 or IPv6 (maybe with %scope)
    Port         integer      NOT NULL,
    Generation   integer      NOT NULL,
    SiloName     text         NOT NULL,
    HostName     text         NOT NULL,
    Status       integer      NOT NULL,
    ProxyPort    integer      NOT NULL,   -- gateway port, 0 when the silo is no gateway
    SuspectTimes text         NULL,
    StartTime    timestamptz  NOT NULL,
    IAmAliveTime timestamptz  NOT NULL,

    CONSTRAINT pk_orleansmembershiptable PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT fk_orleansmembershiptable_version FOREIGN KEY (DeploymentId)
        REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Called by every silo at start-up. Creates the cluster's version row at
-- version 0 if it is missing. Returns whether this call created it.
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO OrleansMembershipVersionTable (DeploymentId, Timestamp, Version)
    VALUES (@DeploymentId, now(), 0)
    ON CONFLICT (DeploymentId) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM created) AS Inserted;
$q$),

-- Adds a silo row. Succeeds only if the cluster version still equals
-- @Version and the silo row does not exist yet; then bumps the version.
-- The version row's UPDATE takes a row lock, which serialises all
-- membership writers of one cluster: a concurrent writer holding the same
-- @Version re-checks after the lock is released, sees the new version and
-- matches nothing. Both changes are in one statement, so they commit or
-- fail together.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE OrleansMembershipVersionTable AS v
    SET Version = v.Version + 1,
        Timestamp = now()
    WHERE v.DeploymentId = @DeploymentId
      AND v.Version = @Version
      AND NOT EXISTS (
          SELECT 1 FROM OrleansMembershipTable AS m
          WHERE m.DeploymentId = @DeploymentId
            AND m.Address = @Address
            AND m.Port = @Port
            AND m.Generation = @Generation)
    RETURNING v.DeploymentId
),
added AS (
    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName,
         Status, ProxyPort, SuspectTimes, StartTime, IAmAliveTime)
    SELECT b.DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
           @Status, @ProxyPort, NULL, @StartTime, @IAmAliveTime
    FROM bumped AS b
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM added) AS Inserted;
$q$),

-- Changes a silo's status, suspicion votes and heartbeat under the same
-- version check as the insert above. An empty vote list is stored as NULL
-- (Orleans reads both the same way), which keeps the cleanup match below
-- exact.
('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE OrleansMembershipVersionTable AS v
    SET Version = v.Version + 1,
        Timestamp = now()
    WHERE v.DeploymentId = @DeploymentId
      AND v.Version = @Version
      AND EXISTS (
          SELECT 1 FROM OrleansMembershipTable AS m
          WHERE m.DeploymentId = @DeploymentId
            AND m.Address = @Address
            AND m.Port = @Port
            AND m.Generation = @Generation)
    RETURNING v.DeploymentId
),
changed AS (
    UPDATE OrleansMembershipTable AS m
    SET Status = @Status,
        SuspectTimes = NULLIF(@SuspectTimes, ''),
        IAmAliveTime = @IAmAliveTime
    FROM bumped AS b
    WHERE m.DeploymentId = b.DeploymentId
      AND m.Address = @Address
      AND m.Port = @Port
      AND m.Generation = @Generation
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM changed) AS Updated;
$q$),

-- Heartbeat. Deliberately not versioned: Orleans does not expect it to
-- conflict and ignores its outcome.
('UpdateIAmAlivetimeKey', $q$
UPDATE OrleansMembershipTable
SET IAmAliveTime = @IAmAliveTime
WHERE DeploymentId = @DeploymentId
  AND Address = @Address
  AND Port = @Port
  AND Generation = @Generation;
$q$),

-- One silo's row plus the cluster version. The silo filter sits in the
-- join condition so that the version row comes back even without a match.
('MembershipReadRowKey', $q$
SELECT v.DeploymentId,
       m.Address, m.Port, m.Generation, m.SiloName, m.HostName,
       m.Status, m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime,
       v.Version
FROM OrleansMembershipVersionTable AS v
LEFT JOIN OrleansMembershipTable AS m
       ON m.DeploymentId = v.DeploymentId
      AND m.Address = @Address
      AND m.Port = @Port
      AND m.Generation = @Generation
WHERE v.DeploymentId = @DeploymentId;
$q$),

-- Every silo row of the cluster plus the cluster version.
('MembershipReadAllKey', $q$
SELECT v.DeploymentId,
       m.Address, m.Port, m.Generation, m.SiloName, m.HostName,
       m.Status, m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime,
       v.Version
FROM OrleansMembershipVersionTable AS v
LEFT JOIN OrleansMembershipTable AS m
       ON m.DeploymentId = v.DeploymentId
WHERE v.DeploymentId = @DeploymentId;
$q$),

-- Removes a whole cluster (silo rows first, then its version row; both in
-- one statement so the foreign key is satisfied when it is checked).
('DeleteMembershipTableEntriesKey', $q$
WITH silos AS (
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId
)
DELETE FROM OrleansMembershipVersionTable
WHERE DeploymentId = @DeploymentId;
$q$),

-- Gateway list for clients: active silos that expose a gateway port. The
-- provider passes @Status = 3 (Active) and builds gateway URIs from
-- Address, ProxyPort and Generation.
('GatewaysQueryKey', $q$
SELECT Address, ProxyPort, Generation
FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId
  AND Status = @Status
  AND ProxyPort > 0;
$q$),

-- Bulk clean-up of defunct silos, used by 10.4.2 only when the optional
-- CleanupDefunctSiloEntryKey row below is absent. @IAmAliveTime carries
-- the cut-off instant. Restricted to Dead silos that neither started nor
-- heartbeated after the cut-off, the same rule the provider applies in its
-- per-row mode (it additionally checks suspicion votes, which are only
-- available as text here).
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId
  AND Status = 6
  AND StartTime < @IAmAliveTime
  AND IAmAliveTime < @IAmAliveTime;
$q$),

-- Optional per-row clean-up (preferred by 10.4.2 when present). The
-- provider reads all rows, decides in .NET which Dead silos are old
-- enough, and then deletes each one only if the row is still exactly as it
-- read it (status, start time, heartbeat and votes unchanged). That avoids
-- deleting a row that changed between its read and this delete.
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId
  AND Address = @Address
  AND Port = @Port
  AND Generation = @Generation
  AND Status = 6
  AND StartTime = @StartTime
  AND IAmAliveTime = @IAmAliveTime
  AND SuspectTimes IS NOT DISTINCT FROM NULLIF(@SuspectTimes, '');
$q$);
