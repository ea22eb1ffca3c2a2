-- Model lifecycle: a model whose base model was shut down is retired (not served, not restorable), and when.
ALTER TABLE fine_tuned_models DROP CONSTRAINT fine_tuned_models_status_check;
ALTER TABLE fine_tuned_models
    ADD CONSTRAINT fine_tuned_models_status_check CHECK (status IN ('active', 'deprecated', 'archived', 'deleted', 'retired')),
    ADD COLUMN retired_at timestamptz;
