-- 0025 chat performance
--
-- When the performance measurements were last reset (DELETE /api/v0.2/performance/reset). One row, shared
-- by every chat replica, so that all of them report from the same starting point.

CREATE TABLE chat_performance_state (
    id BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    reset_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE chat_performance_state IS
    'One row: reset_at is when the chat performance measurements were last reset (or first started).';

INSERT INTO chat_performance_state DEFAULT VALUES;

-- Performance and provider health read recent LLM calls by provider and time, newest first.
CREATE INDEX idx_usage_records_created_provider ON usage_records(created_at DESC, provider);
