-- Usage batch ids are written as one row per write (an array of ids), not one row per id: thousands of batches a
-- second made the per-id rows and their key index a visible share of the database's work, and the ids are only read
-- back whole, when an organization's batch grain activates.
DROP TABLE usage_batches;

CREATE TABLE usage_batch_sets (
    organization_id uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    written_at      timestamptz NOT NULL,
    batch_ids       uuid[]      NOT NULL,
    -- when each id was taken, in the same order
    accepted_at     timestamptz[] NOT NULL CHECK (cardinality(accepted_at) = cardinality(batch_ids))
);
CREATE INDEX ix_usage_batch_sets_org_written ON usage_batch_sets (organization_id, written_at);
