"""The migrator and the dev seed against a real PostgreSQL, each test in its own throw-away database."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from gaia_services.db import (
    DEV_API_KEY,
    DEV_API_KEY_HASH,
    DEV_EMAIL,
    Migration,
    MigrationChecksumError,
    MigrationFailedError,
    MigrationMissingError,
    load_migrations,
    migrate,
    migrate_url,
    seed_dev_identity,
)
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


def _words(text: str) -> set[str]:
    return set(text.split())


# Columns every reference table must have (reference/gaia-internals.md section 2.1), plus ours.
_EXPECTED_COLUMNS: dict[str, set[str]] = {
    "users": _words("id email name created_at updated_at"),
    "api_keys": _words(
        "id user_id key_hash name permissions is_active expires_at last_used_at created_at updated_at"
    ),
    "conversations": _words("id user_id title preview is_active created_at updated_at"),
    "chat_messages": _words("id user_id conversation_id role content model provider tokens_used created_at"),
    "personas": _words(
        "id name description system_prompt personality_traits capabilities is_active created_by "
        "created_at updated_at"
    ),
    "user_persona_preferences": _words("user_id persona_id updated_at"),
    "asset_sources": _words(
        "id source_type source_name api_endpoint is_active rate_limit_per_minute requires_attribution "
        "cost_per_request created_at updated_at"
    ),
    "assets": _words(
        "id source_id external_id category title description style_tags file_url storage_type "
        "file_size_mb file_format preview_image_url quality_score download_count license_type "
        "attribution_required metadata created_at updated_at"
    ),
    "asset_generations": _words(
        "id asset_id generation_prompt generation_service generation_cost generation_time_ms session_id "
        "user_id generation_metadata created_at"
    ),
    "asset_modifications": _words(
        "id base_asset_id modified_asset_id modifications modification_service modification_cost "
        "modification_time_ms session_id user_id modification_metadata created_at"
    ),
    "asset_usage": _words("id asset_id user_id session_id usage_type cost_incurred metadata created_at"),
    "schema_migrations": _words("migration_name checksum applied_at"),
}
_OUR_COLUMNS: dict[str, set[str]] = {
    "users": _words("password_hash email_confirmed_at user_metadata app_metadata last_sign_in_at is_active"),
    "api_keys": _words("key_prefix revoked_at"),
    "auth_sessions": _words("id user_id created_at refreshed_at revoked_at user_agent ip_address"),
    "refresh_tokens": _words(
        "id token_hash session_id user_id parent_hash created_at expires_at used_at revoked_at"
    ),
    "email_confirmations": _words("id token_hash user_id email created_at expires_at used_at"),
    "chat_messages": _words("is_partial request_id seq"),
    "conversations": _words("is_default"),
    "assets": _words("user_id"),
    "usage_records": _words(
        "id user_id provider operation model tokens_in tokens_out images credits cost latency_ms "
        "conversation_id request_id status metadata created_at"
    ),
    "pricing_overrides": _words("provider config updated_by updated_at"),
}
_EXPECTED_INDEXES = _words(
    """
    idx_api_keys_user_id idx_api_keys_key_hash idx_api_keys_is_active
    idx_conversations_user_id idx_conversations_created_at idx_conversations_is_active
    idx_chat_messages_user_id idx_chat_messages_conversation_id idx_chat_messages_created_at
    idx_personas_name idx_personas_is_active idx_personas_created_by
    idx_assets_category idx_assets_style_tags idx_assets_quality idx_assets_storage_type
    idx_assets_license idx_assets_created_at idx_assets_download_count idx_assets_source_id
    idx_assets_title_fts idx_assets_description_fts idx_assets_category_quality idx_assets_category_created
    idx_asset_generations_asset_id idx_asset_generations_session_id
    idx_asset_modifications_base_asset_id idx_asset_modifications_modified_asset_id
    idx_asset_usage_asset_id idx_asset_usage_user_id
    uq_conversations_default_per_user idx_usage_records_user_created idx_usage_records_provider_created
    """
)
_REFERENCE_TRIGGERS = {
    ("users", "update_users_updated_at"),
    ("api_keys", "update_api_keys_updated_at"),
    ("conversations", "update_conversations_updated_at"),
    ("assets", "update_assets_updated_at"),
    ("asset_sources", "update_asset_sources_updated_at"),
}
_MU_PROMPT = (
    "You are Mu, a cheerful robot companion designed to be helpful, supportive, and engaging! \n\n"
    "Your personality:\n- Upbeat and optimistic with robotic charm\n"
    '- Use occasional robotic expressions like "Beep boop!" or "Bleep bloop!"\n'
    "- Helpful and supportive in all interactions\n- Encouraging and positive attitude\n"
    "- Capable of meditation guidance and breathing exercises\n\n"
    "Your capabilities:\n- General conversation and assistance\n- Meditation and mindfulness guidance  \n"
    "- Breathing exercises and relaxation techniques\n- Emotional support and encouragement\n"
    "- Tool usage when appropriate\n\n"
    "Keep responses friendly, concise, and inject your robotic personality naturally. "
    "You're here to help users have a positive experience!\n\n{tools_section}"
)


@pytest.fixture
async def database_url(infra: Infra) -> AsyncIterator[str]:
    """A new, empty database on the session's server (embedded, or the standalone one); dropped afterwards."""
    admin_url = infra.database_url
    name = f"gaia_mig_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    # A non-UTC session time zone proves the naive TIMESTAMP defaults are UTC regardless.
    connection = await asyncpg.connect(database_url, server_settings={"TimeZone": "America/New_York"})
    try:
        yield connection
    finally:
        await connection.close()


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


async def test_fresh_migrate_applies_all_in_order(conn: asyncpg.Connection) -> None:
    shipped = load_migrations()
    assert [m.number for m in shipped] == sorted(m.number for m in shipped)
    assert shipped[0].name == "0001_reference_schema"

    applied = await migrate(conn)

    assert applied == [m.name for m in shipped]
    rows = await conn.fetch("SELECT migration_name, checksum FROM schema_migrations ORDER BY migration_name")
    assert [(r["migration_name"], r["checksum"]) for r in rows] == [(m.name, m.checksum) for m in shipped]
    assert shipped[0].checksum == hashlib.sha256(shipped[0].sql.encode()).hexdigest()

    columns: dict[str, set[str]] = {}
    for row in await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    ):
        columns.setdefault(row["table_name"], set()).add(row["column_name"])
    for expected in (_EXPECTED_COLUMNS, _OUR_COLUMNS):
        for table, wanted in expected.items():
            assert wanted <= columns.get(table, set()), (table, wanted - columns.get(table, set()))
    assert "embedding" not in columns["assets"]

    indexes = {r["indexname"] for r in await conn.fetch("SELECT indexname FROM pg_indexes")}
    assert indexes >= _EXPECTED_INDEXES, _EXPECTED_INDEXES - indexes
    triggers = {
        (r["event_object_table"], r["trigger_name"])
        for r in await conn.fetch("SELECT event_object_table, trigger_name FROM information_schema.triggers")
    }
    assert triggers >= _REFERENCE_TRIGGERS

    sources = {r["source_name"]: r["source_type"] for r in await conn.fetch("SELECT * FROM asset_sources")}
    assert sources == {
        **dict.fromkeys(["poly_haven", "freesound", "opengameart"], "open_source"),
        "community_uploads": "community",
        **dict.fromkeys(["meshy_ai", "midjourney", "mubert", "openai", "stability", "local"], "generated"),
    }
    await conn.execute(
        "INSERT INTO assets (category, title, file_url, storage_type) "
        "VALUES ('image', 'x', 'file:///x', 'local')"
    )


async def test_second_run_is_a_no_op(conn: asyncpg.Connection) -> None:
    assert await migrate(conn) != []
    assert await migrate(conn) == []
    assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(load_migrations())


async def test_concurrent_migrators_apply_each_migration_once(
    database_url: str, conn: asyncpg.Connection
) -> None:
    results = await asyncio.gather(*(migrate_url(database_url) for _ in range(3)))

    names = [m.name for m in load_migrations()]
    assert sorted(name for result in results for name in result) == names
    assert sorted(results, key=len) == [[], [], names]
    assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(names)


async def test_changed_migration_is_refused(conn: asyncpg.Connection) -> None:
    await migrate(conn)
    await conn.execute(
        "UPDATE schema_migrations SET checksum = 'deadbeef' WHERE migration_name = '0002_identity'"
    )

    with pytest.raises(MigrationChecksumError) as caught:
        await migrate(conn)

    message = str(caught.value)
    actual = next(m.checksum for m in load_migrations() if m.name == "0002_identity")
    assert "0002_identity.sql" in message
    assert "deadbeef" in message
    assert actual in message
    # The advisory lock was released: a fixed database migrates again.
    await conn.execute(
        "UPDATE schema_migrations SET checksum = $1 WHERE migration_name = '0002_identity'", actual
    )
    assert await migrate(conn) == []


async def test_applied_migration_missing_from_disk_is_refused(conn: asyncpg.Connection) -> None:
    await migrate(conn)
    await conn.execute("INSERT INTO schema_migrations (migration_name, checksum) VALUES ('9999_gone', 'x')")

    with pytest.raises(MigrationMissingError, match=r"9999_gone\.sql"):
        await migrate(conn)


async def test_failing_migration_names_its_file_and_leaves_nothing_behind(conn: asyncpg.Connection) -> None:
    good = Migration.from_file("0001_good.sql", b"CREATE TABLE good (id INT);\n")
    bad = Migration.from_file("0002_bad.sql", b"CREATE TABLE half (id INT);\nSELECT * FROM no_such_table;\n")

    with pytest.raises(MigrationFailedError, match=r"0002_bad\.sql.*no_such_table.*line 2"):
        await migrate(conn, migrations=[bad, good])

    assert await conn.fetchval("SELECT array_agg(migration_name) FROM schema_migrations") == ["0001_good"]
    assert await conn.fetchval("SELECT to_regclass('half')") is None
    assert await conn.fetchval("SELECT to_regclass('good')") == "good"


async def test_dev_seed_is_idempotent_and_reactivates_the_key(conn: asyncpg.Connection) -> None:
    await migrate(conn)
    await seed_dev_identity(conn)
    first_key = await conn.fetchrow("SELECT * FROM api_keys")
    first_user = await conn.fetchrow("SELECT * FROM users")
    await seed_dev_identity(conn)

    assert hashlib.sha256(DEV_API_KEY.encode()).hexdigest() == DEV_API_KEY_HASH
    user = await conn.fetchrow("SELECT * FROM users WHERE email = $1", DEV_EMAIL)
    assert user["name"] == "Local Development User"
    assert user["email_confirmed_at"] is not None
    assert user["password_hash"] is None
    keys = await conn.fetch("SELECT * FROM api_keys")
    assert len(keys) == 1
    assert await conn.fetchval("SELECT count(*) FROM users") == 1
    key = keys[0]
    assert key["key_hash"] == DEV_API_KEY_HASH
    assert key["user_id"] == user["id"]
    assert key["name"] == "Local Development API Key"
    assert json.loads(key["permissions"]) == {"admin": True, "environment": "local"}
    assert key["is_active"] is True
    assert key["updated_at"] == first_key["updated_at"]
    assert user["updated_at"] == first_user["updated_at"]

    await conn.execute("UPDATE api_keys SET is_active = false, revoked_at = now()")
    await conn.execute("UPDATE users SET email_confirmed_at = NULL, is_active = false")
    await seed_dev_identity(conn)
    key = await conn.fetchrow("SELECT * FROM api_keys")
    assert (key["is_active"], key["revoked_at"]) == (True, None)
    user = await conn.fetchrow("SELECT * FROM users")
    assert user["is_active"] is True
    assert user["email_confirmed_at"] is not None


async def test_mu_persona_is_seeded_once(conn: asyncpg.Connection) -> None:
    await migrate(conn)

    rows = await conn.fetch("SELECT * FROM personas WHERE name = 'Mu'")
    assert len(rows) == 1
    mu = rows[0]
    assert mu["system_prompt"] == _MU_PROMPT
    assert mu["description"].startswith("A cheerful robot companion")
    assert mu["created_by"] == "system"
    assert mu["is_active"] is True
    traits = "cheerful helpful robotic_charm supportive meditation_capable optimistic encouraging"
    assert json.loads(mu["personality_traits"]) == dict.fromkeys(traits.split(), True)
    capabilities = (
        "general_conversation meditation_guidance breathing_exercises emotional_support tool_usage "
        "mindfulness_coaching positive_reinforcement"
    )
    assert json.loads(mu["capabilities"]) == dict.fromkeys(capabilities.split(), True)


async def test_timestamps_are_utc_and_triggers_keep_updated_at(conn: asyncpg.Connection) -> None:
    await migrate(conn)
    old = datetime(2000, 1, 1)
    user_id = await conn.fetchval(
        "INSERT INTO users (email, updated_at) VALUES ('t@example.com', $1) RETURNING id", old
    )
    created = await conn.fetchval("SELECT created_at FROM users WHERE id = $1", user_id)
    assert abs(created - _utc_now()) < timedelta(minutes=1)

    await conn.execute(
        "INSERT INTO api_keys (user_id, key_hash, updated_at) VALUES ($1, 'h', $2)", user_id, old
    )
    await conn.execute("INSERT INTO conversations (user_id, updated_at) VALUES ($1, $2)", user_id, old)
    await conn.execute(
        "INSERT INTO assets (category, title, file_url, storage_type, updated_at) "
        "VALUES ('prop', 'a', 'u', 'external', $1)",
        old,
    )
    await conn.execute("UPDATE asset_sources SET updated_at = $1", old)  # the trigger overrides this too
    for table in ("users", "api_keys", "conversations", "assets"):
        await conn.execute(f"UPDATE {table} SET updated_at = updated_at")
        updated = await conn.fetchval(f"SELECT max(updated_at) FROM {table}")
        assert abs(updated - _utc_now()) < timedelta(minutes=1), table
    sources_updated = await conn.fetchval("SELECT min(updated_at) FROM asset_sources")
    assert abs(sources_updated - _utc_now()) < timedelta(minutes=1)

    await conn.execute("UPDATE personas SET description = description WHERE name = 'Mu'")
    persona = await conn.fetchrow("SELECT created_at, updated_at FROM personas WHERE name = 'Mu'")
    assert persona["updated_at"] > persona["created_at"]
    assert abs(persona["updated_at"] - datetime.now(UTC)) < timedelta(minutes=1)


async def test_one_active_default_conversation_per_user_and_ordered_messages(
    conn: asyncpg.Connection,
) -> None:
    await migrate(conn)
    user_id = await conn.fetchval("INSERT INTO users (email) VALUES ('c@example.com') RETURNING id")
    conversation_id = await conn.fetchval(
        "INSERT INTO conversations (user_id, is_default) VALUES ($1, true) RETURNING id", user_id
    )
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute("INSERT INTO conversations (user_id, is_default) VALUES ($1, true)", user_id)
    await conn.execute("UPDATE conversations SET is_active = false WHERE id = $1", conversation_id)
    await conn.execute("INSERT INTO conversations (user_id, is_default) VALUES ($1, true)", user_id)

    insert = (
        "INSERT INTO chat_messages (user_id, conversation_id, role, content, is_partial) "
        "VALUES ($1, $2, $3, $4, $5)"
    )
    async with conn.transaction():  # both turns of an exchange, with the reply cut short
        await conn.execute(insert, user_id, conversation_id, "user", "hi", False)
        await conn.execute(insert, user_id, conversation_id, "assistant", "hel", True)
    rows = await conn.fetch(
        "SELECT role, is_partial, created_at FROM chat_messages WHERE conversation_id = $1 "
        "ORDER BY created_at, seq",
        conversation_id,
    )
    assert [(r["role"], r["is_partial"]) for r in rows] == [("user", False), ("assistant", True)]
    assert rows[0]["created_at"] < rows[1]["created_at"]
