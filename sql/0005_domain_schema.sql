-- The product's relational tables (the spec's schema, adapted): what is queried across
-- grains, listed, filtered and reported on. Grain state (organization settings, keys,
-- job and model lifecycles) lives in OrleansStorage; these tables hold the rows that
-- other rows reference and that reports read.

CREATE TABLE organizations (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    plan        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_organizations_created ON organizations (created_at, id);

CREATE TABLE agents (
    id                  uuid        PRIMARY KEY,
    organization_id     uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    default_base_model  text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- Lets child tables carry (organization_id, agent_id) foreign keys, so a row can
    -- never point at another organization's agent.
    UNIQUE (organization_id, id)
);
CREATE INDEX ix_agents_org ON agents (organization_id, created_at);

-- Finished conversations reported by the agent runtime; the raw material for imports.
CREATE TABLE conversations (
    id               uuid        PRIMARY KEY,
    organization_id  uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    agent_id         uuid        NOT NULL,
    external_id      text,
    rating           smallint    CHECK (rating BETWEEN 1 AND 5),
    metadata         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    started_at       timestamptz,
    ended_at         timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, agent_id) REFERENCES agents (organization_id, id) ON DELETE CASCADE,
    UNIQUE (organization_id, id)
);
-- The import filters: agent, minimum rating, date range.
CREATE INDEX ix_conversations_import ON conversations (organization_id, agent_id, ended_at);
CREATE UNIQUE INDEX ux_conversations_external ON conversations (organization_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE conversation_messages (
    conversation_id  uuid     NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position         integer  NOT NULL CHECK (position >= 0),
    role             text     NOT NULL,
    content          text,
    name             text,
    tool_calls       jsonb,
    tool_call_id     text,
    PRIMARY KEY (conversation_id, position)
);

-- Training examples in the OpenAI chat fine-tuning format (messages + optional tools,
-- functions and parallel_tool_calls), kept whole as canonical JSON so that multi-turn and
-- tool-calling examples survive a round trip. content_hash is SHA-256 of the canonical example.
CREATE TABLE training_examples (
    id               uuid        PRIMARY KEY,
    organization_id  uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    agent_id         uuid,
    messages         jsonb       NOT NULL,
    tools            jsonb,
    functions        jsonb,
    parallel_tool_calls boolean,
    content_hash     bytea       NOT NULL,
    source           text        NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'upload', 'conversation')),
    upload_id        uuid,
    conversation_id  uuid,
    -- Which part of the conversation an imported example is: -1 the whole conversation, otherwise the
    -- position of the user message of an adjacent user/assistant pair. Makes imports idempotent.
    conversation_part integer,
    tags             text[]      NOT NULL DEFAULT '{}',
    notes            text,
    is_validated     boolean     NOT NULL DEFAULT false,
    validated_by     text,
    validated_at     timestamptz,
    quality_score    numeric(3, 2) CHECK (quality_score BETWEEN 0 AND 1),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, agent_id) REFERENCES agents (organization_id, id) ON DELETE SET NULL (agent_id),
    FOREIGN KEY (organization_id, conversation_id) REFERENCES conversations (organization_id, id) ON DELETE SET NULL (conversation_id),
    -- An organization never stores the same example twice.
    UNIQUE (organization_id, content_hash)
);
CREATE INDEX ix_training_examples_org_created ON training_examples (organization_id, created_at DESC, id DESC);
CREATE INDEX ix_training_examples_org_agent ON training_examples (organization_id, agent_id);
CREATE INDEX ix_training_examples_org_validated ON training_examples (organization_id, is_validated);
CREATE INDEX ix_training_examples_tags ON training_examples USING gin (tags);
CREATE UNIQUE INDEX ux_training_examples_conversation_part ON training_examples (organization_id, conversation_id, conversation_part)
    WHERE conversation_id IS NOT NULL;

CREATE TABLE fine_tuning_jobs (
    id                       uuid          PRIMARY KEY,
    organization_id          uuid          NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    agent_id                 uuid,
    name                     text          NOT NULL,
    base_model               text          NOT NULL,
    provider                 text          NOT NULL,
    training_file_id         text,
    validation_file_id       text,
    training_examples_count  integer,
    validation_examples_count integer,
    status                   text          NOT NULL DEFAULT 'preparing',
    provider_job_id          text,
    fine_tuned_model_id      text,
    training_started_at      timestamptz,
    training_completed_at    timestamptz,
    training_loss            numeric(12, 6),
    validation_loss          numeric(12, 6),
    training_tokens          bigint,
    estimated_cost           numeric(12, 4),
    actual_cost              numeric(12, 4),
    hyperparameters          jsonb         NOT NULL DEFAULT '{}'::jsonb,
    error_message            text,
    created_by               text,
    created_at               timestamptz   NOT NULL DEFAULT now(),
    updated_at               timestamptz   NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, agent_id) REFERENCES agents (organization_id, id) ON DELETE SET NULL (agent_id),
    UNIQUE (organization_id, id)
);
CREATE INDEX ix_fine_tuning_jobs_org ON fine_tuning_jobs (organization_id, created_at DESC);
-- Jobs still in flight, for operators and for reconciling after an outage.
CREATE INDEX ix_fine_tuning_jobs_active ON fine_tuning_jobs (status) WHERE status NOT IN ('succeeded', 'failed', 'cancelled');

CREATE TABLE fine_tuned_models (
    id                       uuid          PRIMARY KEY,
    organization_id          uuid          NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    fine_tuning_job_id       uuid,
    name                     text          NOT NULL,
    version                  integer       NOT NULL DEFAULT 1,
    description              text,
    provider                 text          NOT NULL,
    provider_model_id        text          NOT NULL,
    base_model               text          NOT NULL,
    status                   text          NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deprecated', 'archived', 'deleted')),
    is_default               boolean       NOT NULL DEFAULT false,
    shutdown_at              timestamptz,
    total_requests           bigint        NOT NULL DEFAULT 0,
    total_tokens             bigint        NOT NULL DEFAULT 0,
    total_cost               numeric(14, 4) NOT NULL DEFAULT 0,
    avg_response_time_ms     integer,
    success_rate             numeric(5, 2),
    user_satisfaction_score  numeric(3, 2),
    created_at               timestamptz   NOT NULL DEFAULT now(),
    updated_at               timestamptz   NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, fine_tuning_job_id) REFERENCES fine_tuning_jobs (organization_id, id) ON DELETE SET NULL (fine_tuning_job_id),
    UNIQUE (organization_id, name, version)
);
CREATE INDEX ix_fine_tuned_models_org ON fine_tuned_models (organization_id, status);
-- At most one organization-wide default model.
CREATE UNIQUE INDEX ux_fine_tuned_models_default ON fine_tuned_models (organization_id) WHERE is_default;

-- Usage reported by the runtime, rolled up per model, A/B arm and hour by the model grains.
CREATE TABLE model_usage_rollups (
    organization_id   uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    model_id          uuid        NOT NULL REFERENCES fine_tuned_models (id) ON DELETE CASCADE,
    arm               text        NOT NULL DEFAULT 'fine_tuned' CHECK (arm IN ('fine_tuned', 'base')),
    bucket_start      timestamptz NOT NULL,
    requests          bigint      NOT NULL DEFAULT 0,
    successes         bigint      NOT NULL DEFAULT 0,
    prompt_tokens     bigint      NOT NULL DEFAULT 0,
    completion_tokens bigint      NOT NULL DEFAULT 0,
    latency_ms_sum    bigint      NOT NULL DEFAULT 0,
    rating_sum        bigint      NOT NULL DEFAULT 0,
    rating_count      bigint      NOT NULL DEFAULT 0,
    cost_usd          numeric(14, 6) NOT NULL DEFAULT 0,
    PRIMARY KEY (model_id, arm, bucket_start)
);
CREATE INDEX ix_model_usage_rollups_org ON model_usage_rollups (organization_id, bucket_start);
