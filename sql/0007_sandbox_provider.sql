-- The sandbox provider's own records (simulated: no real training happens). A sandbox job's state is
-- derived from its stored created_at, its stored timing and the clock, so it survives any silo crash
-- and every silo answers the same for it.

CREATE TABLE sandbox_files (
    id          text        PRIMARY KEY,
    file_name   text        NOT NULL,
    sha256      text        NOT NULL,
    bytes       bigint      NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX sandbox_files_name_hash ON sandbox_files (file_name, sha256);

CREATE TABLE sandbox_jobs (
    id                 text        PRIMARY KEY,
    reference          text        NOT NULL UNIQUE,
    model              text        NOT NULL,
    suffix             text,
    training_file_id   text        NOT NULL,
    validation_file_id text,
    epochs             integer     NOT NULL,
    total_steps        integer     NOT NULL,
    validating_ms      bigint      NOT NULL,
    queued_ms          bigint      NOT NULL,
    step_ms            bigint      NOT NULL,
    fail_at_step       integer,
    training_tokens    bigint      NOT NULL,
    created_at         timestamptz NOT NULL,
    cancelled_at       timestamptz
);
