-- Bring-your-own provider keys, encrypted with ASP.NET Data Protection, and the Data Protection key
-- ring itself, kept here so every silo can decrypt what any silo encrypted.

CREATE TABLE data_protection_keys (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    friendly_name  text        NOT NULL,
    xml            text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- One key per organization and provider. Only the ciphertext is stored; last4 and fingerprint let an
-- admin tell which key is set without the key ever leaving the silo.
CREATE TABLE organization_provider_keys (
    organization_id uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider        text        NOT NULL CHECK (provider IN ('openai', 'together')),
    ciphertext      text        NOT NULL,
    last4           text        NOT NULL,
    fingerprint     text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, provider)
);
