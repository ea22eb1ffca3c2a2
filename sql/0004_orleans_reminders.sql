-- 0004: durable reminders for Orleans AdoNetReminderTable on PostgreSQL.
--
-- Contract: Microsoft.Orleans.Reminders.AdoNet 10.4.2, invariant "Npgsql".
-- Requires 0001 (OrleansQuery).
--
-- How the provider uses this (learned from the 10.4.2 assembly):
--   * It refuses to start unless all seven keys below exist.
--   * Parameters: @ServiceId text, @GrainId text (GrainId.ToString()),
--     @ReminderName text, @StartTime UTC DateTime, @Period in milliseconds
--     (int4, or int8 when it exceeds int4), @GrainHash int4 (the grain's
--     uniform hash, a uint reinterpreted as signed), @BeginHash/@EndHash
--     int4 (same reinterpretation), @Version int4 (the ETag).
--   * Row-returning queries yield GrainId, ReminderName, StartTime, Period
--     (read as int8) and Version; ETag = Version as text.
--   * Upsert returns one row with the new Version; delete returns one row
--     with one boolean column.
--   * Range reads: a silo owns the ring range (Begin, End]. Because hashes
--     are stored as signed int4, the provider picks the query by comparing
--     Begin and End as signed values: ReadRangeRows1Key when Begin < End
--     (a plain interval), otherwise ReadRangeRows2Key (the interval wraps
--     around, so it is the union of the two ends; Begin = End means the
--     whole ring).

CREATE TABLE OrleansRemindersTable
(
    ServiceId    varchar(150) NOT NULL,
    GrainId      text         NOT NULL,
    ReminderName varchar(150) NOT NULL,
    StartTime    timestamptz  NOT NULL,
    Period       bigint       NOT NULL,   -- milliseconds
    GrainHash    integer      NOT NULL,
    Version      integer      NOT NULL,

    CONSTRAINT pk_orleansreminderstable PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- Serves the ring-range reads each silo does when its range changes.
CREATE INDEX ix_orleansreminderstable_grainhash
    ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

('ReadReminderRowsKey', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND GrainId = @GrainId;
$q$),

('ReadReminderRowKey', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND GrainId = @GrainId
  AND ReminderName = @ReminderName;
$q$),

-- Non-wrapping range (Begin < End as signed int4).
('ReadRangeRows1Key', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND GrainHash > @BeginHash
  AND GrainHash <= @EndHash;
$q$),

-- Wrapping range (Begin >= End as signed int4).
('ReadRangeRows2Key', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
$q$),

-- Register or re-register: new rows start at version 0, every
-- re-registration bumps the version. One atomic statement.
('UpsertReminderRowKey', $q$
INSERT INTO OrleansRemindersTable
    (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
SET StartTime = EXCLUDED.StartTime,
    Period = EXCLUDED.Period,
    GrainHash = EXCLUDED.GrainHash,
    Version = OrleansRemindersTable.Version + 1
RETURNING Version;
$q$),

-- Unregister, only if the caller's ETag is still current.
('DeleteReminderRowKey', $q$
WITH removed AS (
    DELETE FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId
      AND GrainId = @GrainId
      AND ReminderName = @ReminderName
      AND Version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM removed) AS Deleted;
$q$),

-- Removes every reminder of the service (used by test hooks).
('DeleteReminderRowsKey', $q$
DELETE FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId;
$q$);
