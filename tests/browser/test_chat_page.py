"""The citizen chat page in a real browser against a real server.

The server runs as a subprocess (uvicorn, ``api.main:create_app``) on the demo corpus, ingested
beforehand into a temporary data directory with the real default embedder. The browser is
Debian's ``/usr/bin/chromium`` driven by Playwright; no browser is downloaded. Both come from
``scripts/install-browser.sh``: when either is missing these tests fail, they never skip.
Screenshots land in ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by the `browser` fixture as a failure, not a skip
    expect = sync_playwright = None

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
EMBEDDING_CACHE = ROOT / ".pytest_cache" / "sa-embeddings.sqlite"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",  # the server is on 127.0.0.1; an inherited proxy must not intercept it
]
READY_TIMEOUT_S = 120
ANSWER_TIMEOUT_MS = 60_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

QUESTION = "När ska Borlänge vara klimatneutralt?"
UNANSWERABLE = "Hvad koster en busbillet i Aarhus?"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(data_dir: Path) -> dict[str, str]:
    """The developer's SA_* settings never leak into the server under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SA_")}
    env.update(
        SA_DATA_DIR=str(data_dir),
        SA_CONFIG_FILE=str(data_dir / "absent.toml"),
        SA_EMBEDDING_CACHE_PATH=str(EMBEDDING_CACHE),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    return env


def _get_status(url: str) -> int | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """Base URL of a real server on the ingested demo corpus; stopped at teardown."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    env = _server_env(data_dir)
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "strategy-assistant"), "ingest", "examples/corpus"]
    ingest = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert ingest.returncode == 0, f"ingest failed:\n{ingest.stdout}\n{ingest.stderr}"

    port = _free_port()
    log_path = data_dir / "server.log"
    with log_path.open("w") as log:
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while _get_status(f"{base}/readyz") != 200:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready after {READY_TIMEOUT_S} s:\n{_tail(log_path)}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        pytest.fail("the playwright package is missing: run `bash scripts/install-browser.sh`")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/install-browser.sh`")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Opens pages in fresh contexts and fails the test on any uncaught script error."""
    contexts, errors = [], []

    def open_page(url: str, locale: str = "da-DK", viewport: dict = DESKTOP):
        context = browser.new_context(viewport=viewport, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"script errors on the page: {errors}"


def _ask(page, question: str, *, submit_with_enter: bool = False) -> None:
    page.locator("#question").fill(question)
    if submit_with_enter:
        page.locator("#question").press("Enter")
    else:
        page.locator("#send").click()


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def test_ask_cite_not_found_and_clear(new_page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_page(f"{server}/")
    expect(page.locator("html")).to_have_attribute("lang", "da")  # from navigator.languages
    expect(page.locator("#log")).to_have_attribute("aria-live", "polite")

    _ask(page, QUESTION, submit_with_enter=True)
    answer = page.locator("#log .turn.assistant").first
    expect(answer).to_have_attribute("data-state", "done", timeout=ANSWER_TIMEOUT_MS)
    expect(answer).to_have_attribute("data-found", "true")
    expect(answer.locator(".answer")).to_contain_text("2030")
    expect(answer.locator(".answer")).to_have_attribute("lang", "sv")  # the answer's language
    chip = answer.locator(".answer button.chip").first
    expect(chip).to_be_visible()
    expect(answer.locator(".sources li")).not_to_have_count(0)
    page.screenshot(path=ARTIFACTS / "chat-page.png")

    cite_id = chip.get_attribute("data-cite")
    quote = answer.locator(f'.source-open[data-cite="{cite_id}"] + .source-quote').text_content()
    chip.click()
    dialog = page.locator("#passage")
    mark = dialog.locator("mark")
    expect(mark).to_be_visible()
    marked = _squash(mark.text_content())
    assert marked, "the highlighted passage is empty"
    assert marked in _squash(quote), f"{marked!r} is not part of the citation quote {quote!r}"
    expect(dialog.locator("#passage-title")).not_to_be_empty()
    expect(page.locator("#passage-close")).to_be_focused()
    page.screenshot(path=ARTIFACTS / "chat-passage.png")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(chip).to_be_focused()  # focus returns to what opened the dialog

    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    answer.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "chat-page-phone.png")
    answer.locator(".source-open").first.click()
    expect(mark).to_be_visible()
    page.screenshot(path=ARTIFACTS / "chat-passage-phone.png")
    page.locator("#passage-close").click()
    expect(dialog).to_be_hidden()

    with page.expect_request("**/api/chat") as request:
        _ask(page, UNANSWERABLE)
    sent = request.value.post_data_json
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert sent["messages"][0]["content"] == QUESTION and sent["stream"] is True
    not_found = page.locator("#log .turn.assistant").nth(1)
    expect(not_found).to_have_attribute("data-state", "done", timeout=ANSWER_TIMEOUT_MS)
    expect(not_found).to_have_attribute("data-found", "false")
    expect(not_found.locator(".answer.notice")).to_be_visible()
    expect(not_found.locator(".answer.notice p").first).not_to_be_empty()
    expect(not_found.locator(".suggestions li")).not_to_have_count(0)  # close documents
    page.screenshot(path=ARTIFACTS / "chat-not-found-phone.png")

    page.locator("#clear").click()
    expect(page.locator("#log > *")).to_have_count(0)
    expect(page.locator("#welcome")).to_be_visible()
    expect(page.locator("#question")).to_be_focused()


def test_language_choice_and_embedded_layout(new_page, server):
    page = new_page(f"{server}/?lang=sv", locale="en-US")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("#send")).to_contain_text("Skicka")

    page = new_page(f"{server}/", locale="sv-SE")
    expect(page.locator("html")).to_have_attribute("lang", "sv")

    page = new_page(f"{server}/?embed=1&lang=en", viewport={"width": 400, "height": 640})
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_label("Your question")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "chat-embed.png")
