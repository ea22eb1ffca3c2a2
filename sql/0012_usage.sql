-- Usage rollups aligned with what the model grains aggregate: by model (fine-tuned or base), experiment, arm and
-- whether the fallback served, per whole UTC hour, with the latency histogram (HdrHistogram's compressed encoding,
-- merged in the application: percentiles are never averaged) and the squared ratings the experiment statistics need.
-- The table of the first schema was never written; it is replaced.
DROP TABLE model_usage_rollups;

CREATE TABLE model_usage_rollups (
    organization_id      uuid           NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- 'ft:<model id>' or 'base:<catalog id>'
    model                text           NOT NULL CHECK (model ~ '^(ft|base):.+$'),
    -- the nil uuid outside experiments (a key column cannot be null)
    experiment_id        uuid           NOT NULL,
    arm                  text           NOT NULL CHECK (arm IN ('none', 'control', 'candidate')),
    fell_back            boolean        NOT NULL,
    bucket_start         timestamptz    NOT NULL CHECK (bucket_start = date_trunc('hour', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'),
    requests             bigint         NOT NULL CHECK (requests >= 0),
    successes            bigint         NOT NULL CHECK (successes >= 0 AND successes <= requests),
    input_tokens         bigint         NOT NULL CHECK (input_tokens >= 0),
    output_tokens        bigint         NOT NULL CHECK (output_tokens >= 0),
    cost_usd             numeric(20, 8) NOT NULL CHECK (cost_usd >= 0),
    unpriced_requests    bigint         NOT NULL CHECK (unpriced_requests >= 0),
    satisfaction_count   bigint         NOT NULL CHECK (satisfaction_count >= 0),
    satisfaction_sum     bigint         NOT NULL,
    satisfaction_squares bigint         NOT NULL,
    latency_histogram    bytea          NOT NULL,
    updated_at           timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, model, experiment_id, arm, fell_back, bucket_start)
);
CREATE INDEX ix_model_usage_rollups_org_hour ON model_usage_rollups (organization_id, bucket_start);
CREATE INDEX ix_model_usage_rollups_experiment ON model_usage_rollups (organization_id, experiment_id) WHERE experiment_id <> '00000000-0000-0000-0000-000000000000';

-- The usage batch ids counted in the last hour, so a retried batch is counted once even after a restart.
CREATE TABLE usage_batches (
    organization_id uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    batch_id        uuid        NOT NULL,
    accepted_at     timestamptz NOT NULL,
    PRIMARY KEY (organization_id, batch_id)
);
CREATE INDEX ix_usage_batches_accepted ON usage_batches (accepted_at);
