"""A person's whole day in the web UI, in real Chromium through the real mesh and the fake provider:
register → confirm by the mailed link → sign in → a streamed reply → Stop a slow one → reload keeps the
history → rename and delete → a persona switch reaches the provider → an asset in the gallery → an API key
created and revoked → sign out. Every page is photographed at 1280x800 and 390x844."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import quote

import aiohttp
from playwright.async_api import Page, expect

from tests.e2e.conftest import NetworkGuard, confirmation_link, screenshot
from tests.support.fake_llm import FakeLLM
from tests.support.mesh import Mesh

PASSWORD = "correct-horse-42"


async def _reply_updates(page: Page) -> None:
    """Count distinct texts of the streaming reply, in the page, until it ends."""
    await page.evaluate(
        """() => {
          window.__seen = new Set();
          const log = document.getElementById("messages");
          new MutationObserver(() => {
            const last = log.querySelector("article[data-role=assistant]:last-of-type .body");
            if (last) window.__seen.add(last.textContent);
          }).observe(log, {childList: true, subtree: true, characterData: true});
        }"""
    )


async def test_a_whole_session_in_the_browser(  # noqa: PLR0915 (one journey, step by step)
    page: Page, mesh: Mesh, fake_llm: FakeLLM, network: NetworkGuard
) -> None:
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"

    # Register, confirm by the mailed link, sign in.
    await page.goto("/")
    await expect(page).to_have_url(f"{mesh.web}/login")
    await screenshot(page, "login")
    await page.get_by_role("link", name="Create an account").click()
    await screenshot(page, "register")
    started = time.time()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_text("We sent a confirmation link")).to_be_visible()
    token, address = await confirmation_link(mesh, email, since=started)
    await page.goto(f"/login?token={quote(token)}&email={quote(address)}")
    await expect(page.get_by_text("Your email is confirmed")).to_be_visible()
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{mesh.web}/chat")

    # A streamed reply: several distinct DOM updates before it ends; the address becomes the conversation's.
    await _reply_updates(page)
    await page.get_by_label("Message").fill("slow20: tell me about the northern lights please")
    await page.get_by_label("Message").press("Enter")
    log = page.get_by_role("log")
    reply = log.locator("article[data-role=assistant]").last
    await expect(reply).to_contain_text("echo: slow20: tell me about the northern lights please")
    await expect(page.get_by_role("button", name="Send")).to_be_enabled()
    assert await page.evaluate("() => window.__seen.size") >= 4  # seen growing, not arriving whole
    assert page.url.startswith(f"{mesh.web}/chat/")  # history push: a reload keeps the conversation
    conversation_url = page.url
    await screenshot(page, "chat")

    # Stop a slow stream: the partial reply stays, marked; the provider request is closed.
    await page.get_by_label("Message").fill("slow400: a very long and slow answer that will be stopped early")
    await page.get_by_role("button", name="Send").click()
    await expect(log.locator("article[data-role=assistant]").last).to_contain_text("echo:")
    await page.get_by_role("button", name="Stop").click()
    stopped = log.locator("article[data-role=assistant]").last
    await expect(stopped).to_have_attribute("data-cut", "true")
    [record] = fake_llm.find("slow400: a very long and slow answer that will be stopped early")
    await fake_llm.wait_finished(record, timeout=10)
    assert record.outcome == "client_gone"

    # Reload: the history is still there.
    await page.reload()
    await expect(page).to_have_url(conversation_url)
    await expect(log.locator("article[data-role=user]")).to_have_count(2)
    await expect(log.locator("article[data-role=assistant]").first).to_contain_text("northern lights")
    await expect(log.locator("article[data-role=assistant]").nth(1)).to_have_attribute("data-cut", "true")
    await expect(log.locator("article[data-role=assistant]").nth(1)).to_contain_text("Stopped")
    await expect(log.locator("article[data-role=assistant][data-cut]")).to_have_count(1)

    # Rename, search, delete.
    await page.get_by_text("Rename").click()
    await page.get_by_label("Title").fill("Aurora notes")
    await page.get_by_role("button", name="Save title").click()
    await expect(page.get_by_role("heading", name="Aurora notes")).to_be_visible()
    await page.get_by_label("Search conversations").fill("auro")
    await expect(page.locator("#conversation-list").get_by_role("link", name="Aurora notes")).to_be_visible()
    await page.get_by_role("button", name="Delete").click()
    await expect(page).to_have_url(f"{mesh.web}/chat")
    await expect(page.locator("#conversation-list").get_by_role("link", name="Aurora notes")).to_have_count(0)

    # A persona switch changes the system prompt the provider receives.
    await page.goto("/personas")
    await page.get_by_label("Name").fill("Pirate")
    await page.get_by_label("Description").fill("Talks like a pirate")
    await page.get_by_label("System prompt").fill("You are Captain Flint, a pirate. Say arr.")
    await page.get_by_role("button", name="Create persona").click()
    await expect(page.get_by_text("Persona Pirate created.")).to_be_visible()
    await page.locator("[data-persona=Pirate]").get_by_role("button", name="Use in chat").click()
    await expect(page.locator("[data-persona=Pirate]")).to_contain_text("current")
    await screenshot(page, "personas")
    await page.goto("/chat")
    await page.get_by_label("Message").fill("who are you today")
    await page.get_by_role("button", name="Send").click()
    await expect(log.locator("article[data-role=assistant]").last).to_contain_text("echo: who are you today")
    [asked] = fake_llm.find("who are you today")
    assert "Captain Flint" in asked.system

    # Generate an asset and see it in the gallery.
    await page.goto("/assets")
    await page.get_by_label("Description").fill("a glowing crystal")
    await page.get_by_role("button", name="Generate").click()
    await expect(page.get_by_text("Done: your asset is in the gallery.")).to_be_visible(timeout=30_000)
    await expect(page.locator("#gallery article.asset").first).to_contain_text("a glowing crystal")
    await page.reload()
    await expect(page.locator("#gallery article.asset").first).to_contain_text("a glowing crystal")
    await screenshot(page, "assets")

    await page.goto("/usage")
    await expect(page.get_by_role("img", name="Cost and tokens per day")).to_be_visible()
    await screenshot(page, "usage")
    await page.goto("/account")
    await expect(page.get_by_text(email).first).to_be_visible()
    await screenshot(page, "account")

    # Create an API key (shown once), use it, revoke it: the shim then refuses it.
    await page.goto("/keys")
    await page.get_by_label("Key name").fill("e2e key")
    await page.get_by_role("button", name="Create key").click()
    raw = await page.get_by_label("New API key").input_value()
    assert raw.startswith("gaia_")
    await screenshot(page, "keys")
    async with aiohttp.ClientSession(base_url=mesh.http) as http:
        async with http.get("/v1/models", headers={"Authorization": f"Bearer {raw}"}) as response:
            assert response.status == 200
        await page.goto("/keys")
        await page.get_by_role("button", name="Revoke").click()
        await expect(page.get_by_text("Key revoked.")).to_be_visible()
        async with http.get("/v1/models", headers={"Authorization": f"Bearer {raw}"}) as response:
            assert response.status == 401

    # Sign out.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{mesh.web}/login")
    await page.goto("/chat")
    await expect(page).to_have_url(f"{mesh.web}/login")
    network.check()
