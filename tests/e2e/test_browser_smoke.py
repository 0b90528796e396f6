"""The browser infrastructure itself: real Chromium opens the real mesh's sign-in page."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.conftest import NetworkGuard, screenshot


async def test_login_page_has_an_email_field(page: Page, network: NetworkGuard) -> None:
    response = await page.goto("/login")
    assert response is not None and response.status == 200
    await expect(page.get_by_label("Email")).to_be_visible()
    paths = await screenshot(page, "smoke-login")
    assert [p.name for p in paths] == ["smoke-login-1280x800.png", "smoke-login-390x844.png"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert page.viewport_size == {"width": 1280, "height": 800}
    assert any("/login" in entry for entry in network.requests)
