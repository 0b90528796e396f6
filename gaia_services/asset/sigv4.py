"""AWS Signature Version 4 for S3-compatible object stores: the canonical request, the string to sign, the
signing key and the ``Authorization`` header (header-based signing, as in the S3 API reference)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

__all__ = [
    "EMPTY_SHA256",
    "SigningKey",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "sha256_hex",
    "sign",
    "signing_key",
    "string_to_sign",
]

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True, slots=True)
class SigningKey:
    """Who signs, and for which region and service."""

    access_key: str
    secret_key: str
    region: str
    service: str = "s3"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def canonical_uri(path: str) -> str:
    """The URI-encoded path: bytes outside RFC 3986's unreserved set become %XX, ``/`` stays (S3: once)."""
    return quote(path or "/", safe="/~")


def canonical_query(params: Mapping[str, str]) -> str:
    encoded = sorted((quote(k, safe="~"), quote(v, safe="~")) for k, v in params.items())
    return "&".join(f"{k}={v}" for k, v in encoded)


def _header_lines(headers: Mapping[str, str]) -> tuple[str, str]:
    folded = {k.lower().strip(): " ".join(str(v).split()) for k, v in headers.items()}
    names = sorted(folded)
    return "".join(f"{n}:{folded[n]}\n" for n in names), ";".join(names)


def canonical_request(
    method: str, uri: str, query: str, headers: Mapping[str, str], payload_hash: str
) -> str:
    """``uri`` and ``query`` already canonical; ``headers`` are exactly the signed ones."""
    lines, signed = _header_lines(headers)
    return "\n".join((method.upper(), uri, query, lines, signed, payload_hash))


def _scope(key: SigningKey, when: datetime) -> str:
    return f"{when:%Y%m%d}/{key.region}/{key.service}/aws4_request"


def string_to_sign(request: str, key: SigningKey, when: datetime) -> str:
    return "\n".join((ALGORITHM, f"{when:%Y%m%dT%H%M%SZ}", _scope(key, when), sha256_hex(request.encode())))


def signing_key(key: SigningKey, when: datetime) -> bytes:
    derived = _hmac(f"AWS4{key.secret_key}".encode(), f"{when:%Y%m%d}")
    for part in (key.region, key.service, "aws4_request"):
        derived = _hmac(derived, part)
    return derived


def sign(
    key: SigningKey,
    *,
    method: str,
    host: str,
    path: str,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    payload_hash: str = EMPTY_SHA256,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers to send: ``headers`` plus host, x-amz-date, x-amz-content-sha256 and Authorization.

    Every header given is signed; ``path`` is the raw (decoded) path, encoded here as S3 expects.
    """
    when = (now or datetime.now(UTC)).astimezone(UTC)
    signed = {
        **{k.lower(): v for k, v in (headers or {}).items()},
        "host": host,
        "x-amz-content-sha256": payload_hash,
        "x-amz-date": f"{when:%Y%m%dT%H%M%SZ}",
    }
    request = canonical_request(
        method, canonical_uri(path), canonical_query(query or {}), signed, payload_hash
    )
    signature = hmac.new(
        signing_key(key, when), string_to_sign(request, key, when).encode(), hashlib.sha256
    ).hexdigest()
    _, names = _header_lines(signed)
    authorization = (
        f"{ALGORITHM} Credential={key.access_key}/{_scope(key, when)},"
        f"SignedHeaders={names},Signature={signature}"
    )
    return {**signed, "authorization": authorization}
