-- 0003 chat
--
-- What chat needs beyond the reference: cut (partial) replies, the request that produced a message,
-- a stable message order, the per-user default conversation of the v1 routes, persona timestamps kept
-- by a trigger, and the seeded default persona "Mu" (reference/gaia-internals.md section 8).

-- Keeps updated_at current on tables whose updated_at is TIMESTAMPTZ.
CREATE OR REPLACE FUNCTION update_updated_at_tz_column()
RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$;

-- Messages: a reply cut short by the client is stored with is_partial = true. Two turns written in
-- one transaction get distinct created_at values (clock time), and seq orders ties for certain.
ALTER TABLE chat_messages
    ADD COLUMN is_partial BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN request_id VARCHAR(100),
    ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY,
    ALTER COLUMN created_at SET DEFAULT (clock_timestamp() AT TIME ZONE 'utc');
COMMENT ON COLUMN chat_messages.is_partial IS 'True when the stream was cut and this is the partial reply.';
COMMENT ON COLUMN chat_messages.request_id IS 'The request (e.g. chat-<hex>) that produced the message.';
COMMENT ON COLUMN chat_messages.seq IS 'Insertion order; sort a conversation by (created_at, seq).';

CREATE INDEX idx_chat_messages_conversation_seq ON chat_messages(conversation_id, seq);
CREATE INDEX idx_chat_messages_request_id ON chat_messages(request_id) WHERE request_id IS NOT NULL;

-- Conversations: at most one active default conversation per user (v1 "history per caller").
ALTER TABLE conversations
    ADD COLUMN is_default BOOLEAN NOT NULL DEFAULT false;
COMMENT ON COLUMN conversations.is_default IS 'The user''s default conversation used by the v1 chat routes.';

CREATE UNIQUE INDEX uq_conversations_default_per_user
    ON conversations(user_id) WHERE is_default AND is_active;
CREATE INDEX idx_conversations_user_active_updated
    ON conversations(user_id, updated_at DESC) WHERE is_active;

-- Personas: the composite index the reference's docs describe, and trigger-kept updated_at.
CREATE INDEX idx_personas_active_created ON personas(is_active, created_at DESC);

CREATE TRIGGER update_personas_updated_at BEFORE UPDATE ON personas
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_tz_column();
CREATE TRIGGER update_user_persona_preferences_updated_at BEFORE UPDATE ON user_persona_preferences
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_tz_column();

-- The default persona "Mu", byte for byte as the reference seeds it.
INSERT INTO personas (name, description, system_prompt, personality_traits, capabilities, is_active,
                      created_by)
VALUES (
    'Mu',
    'A cheerful robot companion with a helpful, upbeat personality. Mu is designed to be supportive '
        || 'and engaging, with a touch of robotic charm.',
    E'You are Mu, a cheerful robot companion designed to be helpful, supportive, and engaging! \n'
        || E'\n'
        || E'Your personality:\n'
        || E'- Upbeat and optimistic with robotic charm\n'
        || E'- Use occasional robotic expressions like "Beep boop!" or "Bleep bloop!"\n'
        || E'- Helpful and supportive in all interactions\n'
        || E'- Encouraging and positive attitude\n'
        || E'- Capable of meditation guidance and breathing exercises\n'
        || E'\n'
        || E'Your capabilities:\n'
        || E'- General conversation and assistance\n'
        || E'- Meditation and mindfulness guidance  \n'
        || E'- Breathing exercises and relaxation techniques\n'
        || E'- Emotional support and encouragement\n'
        || E'- Tool usage when appropriate\n'
        || E'\n'
        || E'Keep responses friendly, concise, and inject your robotic personality naturally. '
        || E'You\'re here to help users have a positive experience!\n'
        || E'\n'
        || E'{tools_section}',
    '{"cheerful": true, "helpful": true, "robotic_charm": true, "supportive": true,
      "meditation_capable": true, "optimistic": true, "encouraging": true}',
    '{"general_conversation": true, "meditation_guidance": true, "breathing_exercises": true,
      "emotional_support": true, "tool_usage": true, "mindfulness_coaching": true,
      "positive_reinforcement": true}',
    true,
    'system'
)
ON CONFLICT (name) DO NOTHING;
