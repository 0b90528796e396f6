-- 0001 reference schema
--
-- The tables of the reference Gaia platform (reference/gaia-internals.md section 2.1), as its local
-- init script and migrations 001/002 plus the persona script created them, so that data and queries
-- written for the reference keep their meaning. Deliberate differences:
--   * no pgvector `embedding` column on assets (the extension is not required here);
--   * naive TIMESTAMP columns default to UTC wall time, not the server's local time;
--   * gen_random_uuid() is built into PostgreSQL 13+, so no extension is needed;
--   * chat_messages.user_id cascades on user deletion like every other user-owned row.
-- Every statement runs inside one transaction opened by the migrator.

-- Keeps updated_at current on every UPDATE of a table with a naive-UTC TIMESTAMP updated_at.
CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at = (now() AT TIME ZONE 'utc');
    RETURN NEW;
END;
$$;

-- Accounts. The reference kept identity in Supabase; 0002 adds what our own auth service needs.
CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email VARCHAR(255) UNIQUE NOT NULL,
    name VARCHAR(255),
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc')
);
COMMENT ON TABLE users IS 'Accounts; every user-owned row references users.id.';

-- API keys: only the lowercase hex SHA-256 of the raw key is stored.
CREATE TABLE api_keys (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_hash VARCHAR(64) UNIQUE NOT NULL,
    name VARCHAR(255),
    permissions JSONB DEFAULT '{}',
    is_active BOOLEAN DEFAULT true,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc')
);
COMMENT ON TABLE api_keys IS 'API keys, stored as sha256 hex of the raw key; permissions are the key''s scopes.';
COMMENT ON COLUMN api_keys.key_hash IS 'Lowercase hex SHA-256 of the raw key; the raw key is never stored.';

CREATE INDEX idx_api_keys_user_id ON api_keys(user_id);
CREATE INDEX idx_api_keys_key_hash ON api_keys(key_hash);
CREATE INDEX idx_api_keys_is_active ON api_keys(is_active);

-- Chat conversations; delete is a soft delete (is_active = false).
CREATE TABLE conversations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title VARCHAR(255) NOT NULL DEFAULT 'New Conversation',
    preview TEXT,
    is_active BOOLEAN DEFAULT true,
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc')
);
COMMENT ON TABLE conversations IS 'Chat conversations of one user; deleting sets is_active = false.';

CREATE INDEX idx_conversations_user_id ON conversations(user_id);
CREATE INDEX idx_conversations_created_at ON conversations(created_at DESC);
CREATE INDEX idx_conversations_is_active ON conversations(is_active);

-- One row per chat turn (user, assistant or system).
CREATE TABLE chat_messages (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    conversation_id UUID NOT NULL,
    role VARCHAR(50) NOT NULL,
    content TEXT NOT NULL,
    model VARCHAR(100),
    provider VARCHAR(50),
    tokens_used INTEGER,
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc'),
    CONSTRAINT fk_chat_messages_conversation_id
        FOREIGN KEY (conversation_id) REFERENCES conversations(id) ON DELETE CASCADE
);
COMMENT ON TABLE chat_messages IS 'Chat turns of a conversation; role is user, assistant or system.';

CREATE INDEX idx_chat_messages_user_id ON chat_messages(user_id);
CREATE INDEX idx_chat_messages_conversation_id ON chat_messages(conversation_id);
CREATE INDEX idx_chat_messages_created_at ON chat_messages(created_at);
CREATE INDEX idx_chat_messages_role ON chat_messages(role);

-- Personas: a named system prompt with JSON traits and capabilities ("Mu" is seeded by 0003).
CREATE TABLE personas (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(100) NOT NULL UNIQUE,
    description TEXT NOT NULL,
    system_prompt TEXT NOT NULL,
    personality_traits JSONB DEFAULT '{}',
    capabilities JSONB DEFAULT '{}',
    is_active BOOLEAN DEFAULT true,
    created_by VARCHAR(255),
    created_at TIMESTAMPTZ DEFAULT now(),
    updated_at TIMESTAMPTZ DEFAULT now()
);
COMMENT ON TABLE personas IS 'Named system prompts with traits and capabilities; delete is a soft delete.';
COMMENT ON COLUMN personas.created_by IS 'A user id as text, or ''system''.';

CREATE INDEX idx_personas_name ON personas(name);
CREATE INDEX idx_personas_is_active ON personas(is_active);
CREATE INDEX idx_personas_created_by ON personas(created_by);

-- The persona each user has chosen; user_id is text as in the reference.
CREATE TABLE user_persona_preferences (
    user_id VARCHAR(255) PRIMARY KEY,
    persona_id UUID NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    updated_at TIMESTAMPTZ DEFAULT now()
);
COMMENT ON TABLE user_persona_preferences IS 'The active persona of each user (user id stored as text).';

-- Where assets come from: open-source libraries, community uploads, or generators.
CREATE TABLE asset_sources (
    id SERIAL PRIMARY KEY,
    source_type VARCHAR(50) NOT NULL,
    source_name VARCHAR(100) NOT NULL,
    api_endpoint VARCHAR(255),
    is_active BOOLEAN DEFAULT true,
    rate_limit_per_minute INTEGER DEFAULT NULL,
    requires_attribution BOOLEAN DEFAULT false,
    cost_per_request DECIMAL(10, 6) DEFAULT 0.0,
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc')
);
COMMENT ON TABLE asset_sources IS 'Asset origins; source_type is open_source, community or generated.';

-- Assets found or generated, with storage location, quality and licensing.
CREATE TABLE assets (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    source_id INTEGER REFERENCES asset_sources(id),
    external_id VARCHAR(255),
    category VARCHAR(50) NOT NULL,
    title VARCHAR(255) NOT NULL,
    description TEXT,
    style_tags TEXT[],
    file_url TEXT NOT NULL,
    storage_type VARCHAR(20) NOT NULL,
    file_size_mb FLOAT,
    file_format VARCHAR(10),
    preview_image_url TEXT,
    quality_score FLOAT DEFAULT 0.0 CHECK (quality_score >= 0 AND quality_score <= 1),
    download_count INTEGER DEFAULT 0,
    license_type VARCHAR(50),
    attribution_required BOOLEAN DEFAULT false,
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc'),
    CONSTRAINT valid_category CHECK (
        category IN ('environment', 'character', 'prop', 'audio', 'texture', 'animation', 'image')
    ),
    CONSTRAINT valid_storage_type CHECK (storage_type IN ('supabase', 'external', 'generated')),
    CONSTRAINT valid_license CHECK (
        license_type IN ('creative_commons', 'public_domain', 'custom', 'commercial', 'proprietary')
    )
);
COMMENT ON TABLE assets IS 'Game assets (found or generated): where the file lives, quality, licence, metadata.';

-- One row per AI generation that produced an asset.
CREATE TABLE asset_generations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    asset_id UUID REFERENCES assets(id) ON DELETE CASCADE,
    generation_prompt TEXT NOT NULL,
    generation_service VARCHAR(50) NOT NULL,
    generation_cost DECIMAL(10, 4) NOT NULL,
    generation_time_ms INTEGER NOT NULL,
    session_id VARCHAR(255),
    user_id VARCHAR(255),
    generation_metadata JSONB DEFAULT '{}',
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc')
);
COMMENT ON TABLE asset_generations IS 'History of AI generations: prompt, service, cost and duration per asset.';

-- One row per modification that derived an asset from another.
CREATE TABLE asset_modifications (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    base_asset_id UUID REFERENCES assets(id) ON DELETE CASCADE,
    modified_asset_id UUID REFERENCES assets(id) ON DELETE CASCADE,
    modifications TEXT[] NOT NULL,
    modification_service VARCHAR(50) NOT NULL,
    modification_cost DECIMAL(10, 4) NOT NULL,
    modification_time_ms INTEGER NOT NULL,
    session_id VARCHAR(255),
    user_id VARCHAR(255),
    modification_metadata JSONB DEFAULT '{}',
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc')
);
COMMENT ON TABLE asset_modifications IS 'History of asset modifications (base asset -> modified asset).';

-- Asset usage analytics: downloads, views, requests.
CREATE TABLE asset_usage (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    asset_id UUID REFERENCES assets(id) ON DELETE CASCADE,
    user_id VARCHAR(255),
    session_id VARCHAR(255),
    usage_type VARCHAR(50) NOT NULL,
    cost_incurred DECIMAL(10, 4) DEFAULT 0.0,
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'utc')
);
COMMENT ON TABLE asset_usage IS 'Asset usage events; usage_type is download, view or request.';

CREATE INDEX idx_assets_category ON assets(category);
CREATE INDEX idx_assets_style_tags ON assets USING GIN (style_tags);
CREATE INDEX idx_assets_quality ON assets(quality_score DESC);
CREATE INDEX idx_assets_storage_type ON assets(storage_type);
CREATE INDEX idx_assets_license ON assets(license_type);
CREATE INDEX idx_assets_created_at ON assets(created_at DESC);
CREATE INDEX idx_assets_download_count ON assets(download_count DESC);
CREATE INDEX idx_assets_source_id ON assets(source_id);
CREATE INDEX idx_assets_title_fts ON assets USING GIN (to_tsvector('english', title));
CREATE INDEX idx_assets_description_fts ON assets USING GIN (to_tsvector('english', description));
CREATE INDEX idx_assets_category_quality ON assets(category, quality_score DESC);
CREATE INDEX idx_assets_category_created ON assets(category, created_at DESC);
CREATE INDEX idx_asset_generations_asset_id ON asset_generations(asset_id);
CREATE INDEX idx_asset_generations_session_id ON asset_generations(session_id);
CREATE INDEX idx_asset_modifications_base_asset_id ON asset_modifications(base_asset_id);
CREATE INDEX idx_asset_modifications_modified_asset_id ON asset_modifications(modified_asset_id);
CREATE INDEX idx_asset_usage_asset_id ON asset_usage(asset_id);
CREATE INDEX idx_asset_usage_user_id ON asset_usage(user_id);

-- The reference's asset sources (local seed, including openai and stability).
INSERT INTO asset_sources (source_type, source_name, api_endpoint, is_active, rate_limit_per_minute,
                           requires_attribution)
VALUES
    ('open_source', 'poly_haven', 'https://api.polyhaven.com', true, 60, true),
    ('open_source', 'freesound', 'https://freesound.org/apiv2', true, 60, true),
    ('open_source', 'opengameart', 'https://opengameart.org', true, 30, true),
    ('community', 'community_uploads', NULL, true, NULL, false),
    ('generated', 'meshy_ai', 'https://api.meshy.ai', true, 10, false),
    ('generated', 'midjourney', NULL, true, 5, false),
    ('generated', 'mubert', 'https://api.mubert.com', true, 20, false),
    ('generated', 'openai', 'https://api.openai.com', true, 50, false),
    ('generated', 'stability', 'https://api.stability.ai', true, 50, false);

CREATE TRIGGER update_users_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_api_keys_updated_at BEFORE UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_conversations_updated_at BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_assets_updated_at BEFORE UPDATE ON assets
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_asset_sources_updated_at BEFORE UPDATE ON asset_sources
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
