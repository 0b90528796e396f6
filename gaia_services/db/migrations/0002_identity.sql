-- 0002 identity
--
-- The auth service owns users itself (CONTRACT section 3): argon2id passwords, sessions whose id is
-- the JWT `session_id` claim, rotating refresh tokens stored hashed and grouped by session (the token
-- family), email confirmation tokens, and API-key display/revocation fields. Every token is stored as
-- the lowercase hex SHA-256 of its raw value; raw tokens never reach the database.
-- New columns use TIMESTAMPTZ; the reference's TIMESTAMP columns keep their type.

ALTER TABLE users
    ADD COLUMN password_hash TEXT,
    ADD COLUMN email_confirmed_at TIMESTAMPTZ,
    ADD COLUMN user_metadata JSONB NOT NULL DEFAULT '{}',
    ADD COLUMN app_metadata JSONB NOT NULL DEFAULT '{"provider": "email", "providers": ["email"]}',
    ADD COLUMN last_sign_in_at TIMESTAMPTZ,
    ADD COLUMN is_active BOOLEAN NOT NULL DEFAULT true;
COMMENT ON COLUMN users.password_hash IS 'argon2id PHC string; NULL means password login is impossible.';
COMMENT ON COLUMN users.email_confirmed_at IS 'When the address was confirmed; NULL while unconfirmed.';
COMMENT ON COLUMN users.user_metadata IS 'User-editable profile data, e.g. {"name": "Ann"}.';
COMMENT ON COLUMN users.app_metadata IS 'Server-controlled data, e.g. {"provider": "email"}.';

-- Emails are unique regardless of case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- A login session; its id is the access token's session_id claim and names its refresh-token family.
CREATE TABLE auth_sessions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    refreshed_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    user_agent TEXT,
    ip_address TEXT
);
COMMENT ON TABLE auth_sessions IS 'Login sessions; id = JWT session_id = refresh-token family. Logout sets revoked_at.';

CREATE INDEX idx_auth_sessions_user_id ON auth_sessions(user_id);

-- Rotating refresh tokens: each refresh spends one token (used_at) and issues a child in the same
-- session. Presenting a spent token again revokes the whole session (reuse detection).
CREATE TABLE refresh_tokens (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    session_id UUID NOT NULL REFERENCES auth_sessions(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    parent_hash VARCHAR(64),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
COMMENT ON TABLE refresh_tokens IS 'Refresh tokens (sha256 hex), chained by parent_hash within a session.';
COMMENT ON COLUMN refresh_tokens.used_at IS 'Set when the token was rotated; a spent token is refused.';

CREATE INDEX idx_refresh_tokens_session_id ON refresh_tokens(session_id);
CREATE INDEX idx_refresh_tokens_user_id ON refresh_tokens(user_id);

-- Email confirmation links (the token in the link is stored hashed).
CREATE TABLE email_confirmations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email VARCHAR(255) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
COMMENT ON TABLE email_confirmations IS 'Pending and spent email confirmation tokens (sha256 hex).';

CREATE INDEX idx_email_confirmations_user_id ON email_confirmations(user_id);

-- API keys: scopes stay in permissions JSONB; a display prefix and an explicit revocation time.
ALTER TABLE api_keys
    ADD COLUMN key_prefix VARCHAR(32),
    ADD COLUMN revoked_at TIMESTAMP;
COMMENT ON COLUMN api_keys.key_prefix IS 'First characters of the raw key (e.g. gaia_dev_Ab3d) for display only.';
COMMENT ON COLUMN api_keys.revoked_at IS 'Naive UTC time of revocation; a revoked key also has is_active = false.';
