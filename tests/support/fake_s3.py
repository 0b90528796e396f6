"""A tiny S3-compatible object store for tests: path-style PUT, GET, HEAD and DELETE, kept in memory.

Every request must carry a valid AWS Signature V4 made with the fake's secret: the fake rebuilds the
canonical request from what arrived on the wire (its own code, not the service's signer) and answers 403
``SignatureDoesNotMatch`` otherwise, as S3 does. ``fail_next`` makes the next requests answer 500 and
``delay_s`` slows every answer, to exercise retries and timeouts. ``log`` records (method, path, status).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote

from aiohttp import web

from tests.support.http_fake import HttpFake

__all__ = ["FakeS3"]

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/s3/aws4_request,\s*"
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
_UNRESERVED = "-_.~"


def _error(status: int, code: str, message: str) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return web.Response(status=status, text=body, content_type="application/xml")


class FakeS3(HttpFake):
    shutdown_timeout = 1.0

    def __init__(
        self,
        *,
        access_key: str = "GAIAFAKEACCESSKEY",
        secret_key: str = "fake/Secret+Key/For/Tests",
        region: str = "eu-test-1",
        buckets: tuple[str, ...] = ("gaia-assets",),
    ) -> None:
        super().__init__()
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.buckets = set(buckets)
        self.objects: dict[str, tuple[bytes, str]] = {}  # "<bucket>/<key>" → (bytes, content type)
        self.log: list[tuple[str, str, int]] = []
        self.fail_next = 0
        self.delay_s = 0.0

    # ---- SigV4, rebuilt from the request as received ----

    def _canonical(self, request: web.Request, signed: list[str], payload_hash: str) -> str:
        raw_path, _, raw_query = request.raw_path.partition("?")
        uri = quote(unquote(raw_path), safe="/" + _UNRESERVED)
        pairs = sorted(
            (quote(k, safe=_UNRESERVED), quote(v, safe=_UNRESERVED))
            for k, v in parse_qsl(raw_query, keep_blank_values=True)
        )
        query = "&".join(f"{k}={v}" for k, v in pairs)
        headers = "".join(
            f"{name}:{','.join(' '.join(v.split()) for v in request.headers.getall(name, []))}\n"
            for name in signed
        )
        return "\n".join((request.method, uri, query, headers, ";".join(signed), payload_hash))

    def _signature(self, canonical: str, amz_date: str, date: str) -> str:
        scope = f"{date}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ("AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest())
        )
        key = f"AWS4{self.secret_key}".encode()
        for part in (date, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()

    async def _verify(self, request: web.Request) -> web.Response | None:
        match = _AUTH.match(request.headers.get("Authorization", ""))
        if match is None:
            return _error(403, "AccessDenied", "Missing or malformed Authorization")
        if match["key"] != self.access_key:
            return _error(403, "InvalidAccessKeyId", "Unknown access key")
        signed = match["signed"].split(";")
        amz_date = request.headers.get("x-amz-date", "")
        if "host" not in signed or "x-amz-date" not in signed or "x-amz-content-sha256" not in signed:
            return _error(403, "AccessDenied", "host, x-amz-date and x-amz-content-sha256 must be signed")
        if signed != sorted(signed) or match["region"] != self.region or amz_date[:8] != match["date"]:
            return _error(403, "SignatureDoesNotMatch", "Bad scope")
        try:
            when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return _error(403, "AccessDenied", "Bad x-amz-date")
        if abs((datetime.now(UTC) - when).total_seconds()) > 900:
            return _error(403, "RequestTimeTooSkewed", "Request time too skewed")
        payload_hash = request.headers["x-amz-content-sha256"]
        body = await request.read()
        if payload_hash != "UNSIGNED-PAYLOAD" and payload_hash != hashlib.sha256(body).hexdigest():
            return _error(400, "XAmzContentSHA256Mismatch", "Payload hash mismatch")
        expected = self._signature(self._canonical(request, signed, payload_hash), amz_date, match["date"])
        if not hmac.compare_digest(expected, match["signature"]):
            return _error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
        return None

    # ---- objects ----

    async def _object(self, request: web.Request) -> web.StreamResponse:
        response = await self._answer(request)
        self.log.append((request.method, request.path, response.status))
        return response

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if (refused := await self._verify(request)) is not None:
            return refused
        if self.fail_next > 0:
            self.fail_next -= 1
            return _error(500, "InternalError", "We encountered an internal error")
        bucket, key = request.match_info["bucket"], request.match_info["key"]
        if bucket not in self.buckets:
            return _error(404, "NoSuchBucket", "The specified bucket does not exist")
        name = f"{bucket}/{key}"
        if request.method == "PUT":
            self.objects[name] = (
                await request.read(),
                request.headers.get("Content-Type", "binary/octet-stream"),
            )
            return web.Response(status=200, headers={"ETag": '"fake"'})
        if request.method == "DELETE":
            self.objects.pop(name, None)
            return web.Response(status=204)
        if name not in self.objects:
            return _error(404, "NoSuchKey", "The specified key does not exist.")
        data, content_type = self.objects[name]
        if request.method == "HEAD":
            return web.Response(
                status=200, headers={"Content-Length": str(len(data)), "Content-Type": content_type}
            )
        return web.Response(status=200, body=data, headers={"Content-Type": content_type})

    def keys(self, bucket: str | None = None) -> list[str]:
        """Stored object keys (without the bucket), in the given bucket or the first one."""
        chosen = bucket or sorted(self.buckets)[0]
        return sorted(n.split("/", 1)[1] for n in self.objects if n.split("/", 1)[0] == chosen)

    # ---- server ----

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{bucket}/{key:.+}", self._object)
        return app

    @property
    def endpoint(self) -> str:
        return self.base

    def env(self, bucket: str | None = None) -> dict[str, str]:
        """The asset service's storage settings pointing at this fake."""
        return {
            "GAIA_ASSET_STORAGE": "s3",
            "GAIA_ASSET_S3_ENDPOINT": self.endpoint,
            "GAIA_ASSET_S3_BUCKET": bucket or sorted(self.buckets)[0],
            "GAIA_ASSET_S3_REGION": self.region,
            "GAIA_ASSET_S3_ACCESS_KEY": self.access_key,
            "GAIA_ASSET_S3_SECRET_KEY": self.secret_key,
            "GAIA_ASSET_S3_TIMEOUT_S": "2",
            "GAIA_ASSET_S3_RETRIES": "1",
        }
