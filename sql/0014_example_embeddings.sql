-- Few-shot embedding mode: one vector per example question and embedding model (model name and dimensions), kept so
-- a reactivated index, or another silo's, embeds only the questions that changed. The question's SHA-256 says which
-- text the vector was taken from; a row for an edited question is replaced.
CREATE TABLE example_embeddings (
    organization_id uuid    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    example_id      uuid    NOT NULL REFERENCES training_examples (id) ON DELETE CASCADE,
    model           text    NOT NULL,
    question_sha256 bytea   NOT NULL,
    vector          real[]  NOT NULL,
    PRIMARY KEY (organization_id, model, example_id)
);
CREATE INDEX ix_example_embeddings_example ON example_embeddings (example_id);
