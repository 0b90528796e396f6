-- 0005 assets
--
-- What the asset service needs beyond the reference: assets belong to a user (GET /api/v1/assets
-- lists only the caller's), files live on local disk or in an S3-compatible store, and the built-in
-- local generator is a source like the others. Sources are looked up by name, so names are unique.

ALTER TABLE assets
    ADD COLUMN user_id UUID REFERENCES users(id) ON DELETE CASCADE;
COMMENT ON COLUMN assets.user_id IS 'The owner; NULL for shared library assets not created by a user.';

CREATE INDEX idx_assets_user_created ON assets(user_id, created_at DESC);

ALTER TABLE assets DROP CONSTRAINT valid_storage_type;
ALTER TABLE assets ADD CONSTRAINT valid_storage_type
    CHECK (storage_type IN ('supabase', 'external', 'generated', 'local', 's3'));

CREATE UNIQUE INDEX uq_asset_sources_source_name ON asset_sources(source_name);

-- The built-in generator of dev mode (AssetResponse external_source "local").
INSERT INTO asset_sources (source_type, source_name, api_endpoint, is_active, rate_limit_per_minute,
                           requires_attribution)
VALUES ('generated', 'local', NULL, true, NULL, false)
ON CONFLICT (source_name) DO NOTHING;
