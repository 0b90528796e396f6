"""The interactive docs work offline: /docs loads Swagger UI from the shim itself, not from a CDN."""

from __future__ import annotations

import re

import aiohttp
import yarl

from tests.support.mesh import Mesh


async def test_docs_page_and_its_assets_come_from_the_shim(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    async with http.get("/docs") as page:
        assert page.status == 200 and page.content_type == "text/html"
        html = await page.text()
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", html)
    assert sorted(assets) == [
        "/docs/assets/favicon-32x32.png",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
    ]
    assert "url: '/openapi.json'" in html and "https://" not in html
    for asset, kind in zip(sorted(assets), ("image/png", "text/javascript", "text/css"), strict=True):
        async with http.get(asset) as response:
            assert (response.status, response.content_type) == (200, kind)
            assert len(await response.read()) > 500
    async with http.get("/docs/oauth2-redirect") as redirect:
        assert redirect.status == 200 and "oauth2" in (await redirect.text()).lower()
    escape = yarl.URL(f"{mesh.http}/docs/assets/%2e%2e/%2e%2e/__init__.py", encoded=True)
    async with (
        aiohttp.ClientSession() as raw,
        raw.get(escape) as outside,
    ):  # nothing but the assets folder is served there
        assert outside.status == 404
