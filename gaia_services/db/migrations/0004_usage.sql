-- 0004 usage
--
-- Every LLM call and asset generation leaves one usage record (CONTRACT sections 2 and 6); the usage,
-- billing, performance and pricing-analytics routes report from these rows instead of mock numbers.
-- Pricing overrides let the pricing routes change a provider's catalogue entry at run time.

-- One row per billable operation: an LLM call (streamed or not) or an asset generation.
CREATE TABLE usage_records (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    provider VARCHAR(50) NOT NULL,
    operation VARCHAR(50) NOT NULL,
    model VARCHAR(100),
    tokens_in INTEGER NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
    tokens_out INTEGER NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
    images INTEGER NOT NULL DEFAULT 0 CHECK (images >= 0),
    credits NUMERIC(12, 4) NOT NULL DEFAULT 0 CHECK (credits >= 0),
    cost NUMERIC(12, 6) NOT NULL DEFAULT 0 CHECK (cost >= 0),
    latency_ms INTEGER CHECK (latency_ms >= 0),
    conversation_id UUID REFERENCES conversations(id) ON DELETE SET NULL,
    request_id VARCHAR(100),
    status VARCHAR(10) NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'error', 'cut')),
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE usage_records IS
    'One row per LLM call or asset generation: provider, operation, model, tokens, images, credits, '
    'cost (USD), latency, caller, conversation, request and outcome (ok, error, cut).';
COMMENT ON COLUMN usage_records.operation IS 'What was done, e.g. chat, chat_stream, image_generation, text_to_3d.';
COMMENT ON COLUMN usage_records.metadata IS 'Extra facts, e.g. {"quality": "hd", "session_id": "...", "asset_id": "..."}.';

CREATE INDEX idx_usage_records_user_created ON usage_records(user_id, created_at);
CREATE INDEX idx_usage_records_provider_created ON usage_records(provider, created_at);
CREATE INDEX idx_usage_records_created_at ON usage_records(created_at);
CREATE INDEX idx_usage_records_request_id ON usage_records(request_id) WHERE request_id IS NOT NULL;

-- Run-time replacements for a provider's entry in the static pricing catalogue.
CREATE TABLE pricing_overrides (
    provider VARCHAR(50) PRIMARY KEY,
    config JSONB NOT NULL,
    updated_by UUID REFERENCES users(id) ON DELETE SET NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE pricing_overrides IS
    'A provider''s pricing entry (same JSON shape as the static catalogue) overriding the configured one.';

CREATE TRIGGER update_pricing_overrides_updated_at BEFORE UPDATE ON pricing_overrides
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_tz_column();
