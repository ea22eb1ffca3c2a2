-- Training jobs: the job grain's state is the truth (Orleans storage); these tables are what it writes
-- beside it: the mirror row every listing reads, the dataset each job froze when it started, and the
-- provider's events in arrival order.

ALTER TABLE fine_tuning_jobs
    ADD COLUMN provider_status   text,
    ADD COLUMN model_id          uuid,
    ADD COLUMN dataset_hash      text,
    ADD COLUMN suffix            text,
    ADD COLUMN simulated         boolean NOT NULL DEFAULT false,
    ADD COLUMN cancel_requested  boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT ck_fine_tuning_jobs_status CHECK (status IN
        ('preparing', 'validating', 'queued', 'running', 'succeeded', 'failed', 'cancelling', 'cancelled'));
-- The list's filter and keyset order.
CREATE INDEX ix_fine_tuning_jobs_org_status ON fine_tuning_jobs (organization_id, status, created_at DESC, id DESC);

-- The examples a job trains on, copied when it started: later edits, deletions or validations of the
-- organization's examples never change what a running or retried job uploads. part 0 is training, 1 validation.
CREATE TABLE fine_tuning_job_examples (
    job_id        uuid     NOT NULL REFERENCES fine_tuning_jobs (id) ON DELETE CASCADE,
    part          smallint NOT NULL CHECK (part IN (0, 1)),
    position      integer  NOT NULL CHECK (position >= 0),
    example_id    uuid     NOT NULL,
    content_hash  bytea    NOT NULL,
    example       text     NOT NULL,
    PRIMARY KEY (job_id, part, position)
);

-- Provider events, once each (a poll repeated after a crash inserts nothing new); seq pages them in arrival order.
CREATE TABLE fine_tuning_job_events (
    seq                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id             uuid        NOT NULL REFERENCES fine_tuning_jobs (id) ON DELETE CASCADE,
    provider_event_id  text        NOT NULL,
    created_at         timestamptz NOT NULL,
    level              text        NOT NULL,
    type               text        NOT NULL,
    message            text        NOT NULL,
    step               integer,
    total_steps        integer,
    train_loss         double precision,
    validation_loss    double precision,
    UNIQUE (job_id, provider_event_id)
);
CREATE INDEX ix_fine_tuning_job_events_job ON fine_tuning_job_events (job_id, seq);
