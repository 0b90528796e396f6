"""The documented local development identity (reference/gaia-internals.md section 3).

Seed it in dev mode only: the key below is public. Production never calls :func:`seed_dev_identity`.
"""

from __future__ import annotations

from typing import Final

import asyncpg

__all__ = [
    "DEV_API_KEY",
    "DEV_API_KEY_HASH",
    "DEV_API_KEY_NAME",
    "DEV_API_KEY_PERMISSIONS",
    "DEV_EMAIL",
    "DEV_NAME",
    "seed_dev_identity",
]

DEV_EMAIL: Final = "dev@gaia.local"
DEV_NAME: Final = "Local Development User"
DEV_API_KEY: Final = "FJUeDkZRy0uPp7cYtavMsIfwi7weF9-RT7BeOlusqnE"
# Lowercase hex SHA-256 of DEV_API_KEY, as stored in api_keys.key_hash.
DEV_API_KEY_HASH: Final = "8065e7a7dd9a5d02ea3a79cea93036e7092910c309bb3e43070826f3b939f661"
DEV_API_KEY_NAME: Final = "Local Development API Key"
# JSON text of the key's permissions (its scopes).
DEV_API_KEY_PERMISSIONS: Final = '{"admin": true, "environment": "local"}'
_DEV_API_KEY_PREFIX: Final = DEV_API_KEY[:8]

# The user has no password (NULL password_hash): password login stays impossible until one is set.
# An existing user is only confirmed and reactivated when needed, so re-running touches nothing.
_UPSERT_USER: Final = """
INSERT INTO users (email, name, email_confirmed_at, user_metadata)
VALUES ($1, $2::varchar, now(), jsonb_build_object('name', $2::varchar))
ON CONFLICT (email) DO UPDATE
SET email_confirmed_at = COALESCE(users.email_confirmed_at, now()), is_active = true
WHERE users.email_confirmed_at IS NULL OR NOT users.is_active
"""
_USER_ID: Final = "SELECT id FROM users WHERE email = $1"
# As in the reference, an upsert on key_hash: re-seeding reactivates a deactivated key. Rows already
# in the wanted state are left alone, so re-running does not even touch updated_at.
_UPSERT_KEY: Final = """
INSERT INTO api_keys (user_id, key_hash, name, permissions, is_active, key_prefix)
VALUES ($1, $2, $3, $4::jsonb, true, $5)
ON CONFLICT (key_hash) DO UPDATE
SET is_active = true, revoked_at = NULL, expires_at = NULL
WHERE api_keys.is_active IS NOT TRUE OR api_keys.revoked_at IS NOT NULL OR api_keys.expires_at IS NOT NULL
"""


async def seed_dev_identity(conn: asyncpg.Connection) -> None:
    """Create or repair the dev user and its active API key; running it again changes nothing."""
    async with conn.transaction():
        await conn.execute(_UPSERT_USER, DEV_EMAIL, DEV_NAME)
        user_id = await conn.fetchval(_USER_ID, DEV_EMAIL)
        await conn.execute(
            _UPSERT_KEY,
            user_id,
            DEV_API_KEY_HASH,
            DEV_API_KEY_NAME,
            DEV_API_KEY_PERMISSIONS,
            _DEV_API_KEY_PREFIX,
        )
