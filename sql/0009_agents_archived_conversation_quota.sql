-- Agents are archived, never erased: their conversations and the examples imported from them stay.
ALTER TABLE agents ADD COLUMN archived_at timestamptz;

-- An agent row can no longer take its conversations with it: the cascade becomes a refusal.
DO $$
DECLARE cascade_name text;
BEGIN
    SELECT conname INTO STRICT cascade_name FROM pg_constraint
    WHERE conrelid = 'conversations'::regclass AND confrelid = 'agents'::regclass AND contype = 'f';
    EXECUTE format('ALTER TABLE conversations DROP CONSTRAINT %I', cascade_name);
END $$;
ALTER TABLE conversations ADD CONSTRAINT conversations_agent_fkey
    FOREIGN KEY (organization_id, agent_id) REFERENCES agents (organization_id, id) ON DELETE RESTRICT;

-- What each organization has stored of conversations, kept in the inserting transaction, so the plan's
-- quota is one conditional UPDATE instead of a count over every row.
CREATE TABLE organization_conversation_usage (
    organization_id  uuid    PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    conversations    bigint  NOT NULL DEFAULT 0 CHECK (conversations >= 0),
    bytes            bigint  NOT NULL DEFAULT 0 CHECK (bytes >= 0)
);
INSERT INTO organization_conversation_usage (organization_id, conversations, bytes)
SELECT c.organization_id, count(*),
       sum(octet_length(c.metadata::text) + coalesce(octet_length(c.external_id), 0)
           + coalesce((SELECT sum(octet_length(coalesce(m.content, '')) + octet_length(coalesce(m.tool_calls::text, ''))
                                  + octet_length(coalesce(m.name, '')) + octet_length(coalesce(m.tool_call_id, '')))
                       FROM conversation_messages m WHERE m.conversation_id = c.id), 0))
FROM conversations c
GROUP BY c.organization_id;
