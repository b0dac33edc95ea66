"""The dashboard in a real headless Chromium: every page renders without an exception, and the login works.

The server is started the way ``toolkit dashboard`` starts it (:func:`toolkit.serve.dashboard_command`),
on a free port, against a copy of the sample study whose store is built once per module with the real
models. Pages are found from the app's own navigation, not listed here. A full-page screenshot of each
page is saved in ``tests/artifacts/screenshots/`` for people to look at.

Needs Debian's Chromium at ``/usr/bin/chromium`` (``scripts/setup-browser.sh`` installs it); the tests
skip when it is absent. Set ``TOOLKIT_BROWSER_STUDY`` to a study folder with a built store to reuse it
instead of building a copy (it is served read-only; nothing is written to it).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE_STUDY
from toolkit import auth, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path(os.environ.get("TOOLKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium waits on network services it cannot reach on a closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "tests" / "artifacts" / "screenshots"
NAV_LINKS = '[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"]'
DECISION = re.compile(r"^\s*(accept|reject|recode)\b", re.IGNORECASE)
START_TIMEOUT_S = 90
RENDER_TIMEOUT_MS = 120_000


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}; run scripts/setup-browser.sh (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    try:
        serve.dashboard_app_path()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no dashboard to test: {exc}")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def study(tmp_path_factory, chromium) -> Path:
    """A copy of the sample study with its store built by the real pipeline (once per module)."""
    reuse = os.environ.get("TOOLKIT_BROWSER_STUDY")
    if reuse:
        return Path(reuse).resolve()
    from toolkit.config import load_config
    from toolkit.pipeline import run_study

    copy = tmp_path_factory.mktemp("browser") / "interviews"
    shutil.copytree(SAMPLE_STUDY, copy, ignore=shutil.ignore_patterns("store", "private", "exports"))
    run_study(load_config(copy))
    return copy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dashboard(study: Path, log: Path, extra_env: dict[str, str] | None = None):
    """Serve the dashboard as ``toolkit dashboard`` does; yields its base URL."""
    port = free_port()
    command = serve.dashboard_command(study, host="127.0.0.1", port=port)
    env = serve.dashboard_env("127.0.0.1")
    env.pop("TOOLKIT_AUTH", None)
    env.update(extra_env or {})
    env.setdefault("HF_HUB_OFFLINE", "1")
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the dashboard exited with {process.returncode}:\n{log.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                        if reply.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"the dashboard did not answer in {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def server(study, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with dashboard(study, log, {"TOOLKIT_USER": "browser-test"}) as url:
        yield url


# --- helpers -------------------------------------------------------------------------------------


def wait_until_rendered(page, timeout_ms: int = RENDER_TIMEOUT_MS) -> None:
    """Wait for the script run to finish: some content in the main area and the app not running."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMain"] [data-testid="stElementContainer"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)
    page.wait_for_timeout(300)  # let the last deltas paint
    # A script that is still loading data shows a running status; wait for it to go.
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.dataset.testScriptState !== 'running'
                && !document.querySelector('[data-testid="stSkeleton"]');
        }""",
        timeout=timeout_ms,
    )


def nav_label(link) -> str:
    """A navigation link's text without its icon's ligature name ("home", "grid_on")."""
    return link.evaluate(
        """e => { const c = e.cloneNode(true);
                  c.querySelectorAll('[data-testid="stIconMaterial"]').forEach(i => i.remove());
                  return c.textContent.trim(); }"""
    )


def nav_pages(page) -> list[tuple[str, str]]:
    """(label, url) of every page in the app's navigation, expanding 'View more' if shown."""
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in more.first.inner_text().lower():
        more.first.click()
        page.wait_for_timeout(300)
    links = []
    for link in page.locator(NAV_LINKS).all():
        label = nav_label(link)
        href = link.get_attribute("href")
        if href and (label, href) not in links:
            links.append((label, href))
    return links


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "page"


def screenshot(page, name: str) -> Path:
    """A full-page PNG; the viewport grows to the main area's height, since Streamlit scrolls inside it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        """() => Math.max(...['[data-testid="stMain"]', '[data-testid="stMainBlockContainer"]',
                               '[data-testid="stSidebarContent"]']
            .map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight), 800)"""
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 120, 10_000)})
    page.wait_for_timeout(400)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def exceptions(page) -> list[str]:
    return [e.inner_text()[:2000] for e in page.locator('[data-testid="stException"]').all()]


def decision_buttons(page) -> list[str]:
    labels = [b.inner_text().strip() for b in page.locator('[data-testid="stMain"] button').all()]
    return [label for label in labels if DECISION.match(label)]


def log_in(page, name: str, password: str) -> None:
    form = page.locator('[data-testid="stForm"]')
    form.get_by_label("Name", exact=True).fill(name)
    form.locator('input[type="password"]').fill(password)
    form.get_by_role("button", name="Log in").click()
    # Either the form goes (logged in) or an error appears under it.
    page.wait_for_selector(
        '[data-testid="stAlertContentError"], [data-testid="stMain"]:not(:has([data-testid="stForm"]))',
        timeout=RENDER_TIMEOUT_MS,
    )
    wait_until_rendered(page)


# --- tests ---------------------------------------------------------------------------------------


def test_every_page_renders_in_a_real_browser(chromium, server):
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    try:
        page.goto(server + "/", wait_until="domcontentloaded")
        wait_until_rendered(page)
        pages = nav_pages(page)
        assert len(pages) >= 2, f"expected the app's navigation to list its pages, found {pages}"
        problems = {}
        for label, url in pages:
            page.goto(url, wait_until="domcontentloaded")
            wait_until_rendered(page)
            screenshot(page, slug(label))
            found = exceptions(page)
            if found:
                problems[label] = found
                continue
            # Key content: the navigation marks this page as the current one, and the page has a heading.
            current = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
            assert current.count() == 1 and nav_label(current) == label, f"{label}: not the current page"
            headings = page.locator('[data-testid="stMain"] [data-testid="stHeading"]')
            assert headings.count(), f"{label}: the page has no title or heading"
            main = page.locator('[data-testid="stMain"]').inner_text()
            assert len(main.strip()) > 20, f"{label}: the page is (nearly) empty: {main!r}"
        assert not problems, "Streamlit exceptions:\n" + "\n\n".join(f"{k}:\n{v[0]}" for k, v in problems.items())
        assert not js_errors, f"JavaScript errors in the page: {js_errors[:3]}"
    finally:
        context.close()


@pytest.fixture(scope="module")
def users_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("users") / "users.toml"
    auth.add_user("rosa", "researcher", "researcher passphrase", path=path)
    auth.add_user("ravi", "reviewer", "reviewer passphrase", path=path)
    return path


@pytest.fixture(scope="module")
def shared_server(study, users_file, tmp_path_factory):
    log = tmp_path_factory.mktemp("shared") / "streamlit.log"
    with dashboard(study, log, {"TOOLKIT_AUTH": "required", "TOOLKIT_USERS": str(users_file)}) as url:
        yield url


def review_url(page) -> str | None:
    return next((url for label, url in nav_pages(page) if "review" in label.lower()), None)


def open_review(page) -> bool:
    """Go to the Review page through the navigation (a new page load would be a new session)."""
    link = page.locator(NAV_LINKS).filter(has_text=re.compile("review", re.IGNORECASE))
    if not link.count():
        return False
    link.first.click()
    page.wait_for_timeout(500)
    wait_until_rendered(page)
    return True


def test_login_refuses_a_wrong_password_and_admits_the_right_one(chromium, shared_server):
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(shared_server + "/", wait_until="domcontentloaded")
        wait_until_rendered(page)
        assert page.locator('[data-testid="stForm"]').count() == 1
        assert page.locator('[data-testid="stForm"] input[type="password"]').count() == 1
        assert not page.locator(NAV_LINKS).count(), "the pages are listed before anyone logged in"
        screenshot(page, "login")

        # No page can be reached around the login, by its address or by a page file's name (the pages live in
        # dashboards/views/, so Streamlit's fallback listing of a pages/ folder finds nothing).
        for path in ("review", "export", "quotes", "common", "overview"):
            page.goto(f"{shared_server}/{path}", wait_until="domcontentloaded")
            wait_until_rendered(page)
            assert page.locator('[data-testid="stForm"]').count() == 1, f"/{path} is served without a login"
            assert not page.locator(NAV_LINKS).count(), f"/{path}: the pages are listed before anyone logged in"
        page.goto(shared_server + "/", wait_until="domcontentloaded")
        wait_until_rendered(page)

        log_in(page, "rosa", "not the passphrase")
        assert "Name or password not recognised" in page.locator('[data-testid="stAlertContentError"]').inner_text()
        assert page.locator('[data-testid="stForm"]').count() == 1
        screenshot(page, "login_refused")

        log_in(page, "rosa", "researcher passphrase")
        assert page.locator('[data-testid="stForm"]').count() == 0
        assert "rosa" in page.locator('[data-testid="stSidebar"]').inner_text()
        assert not exceptions(page)

        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Log out").click()
        page.wait_for_selector('[data-testid="stForm"]', timeout=RENDER_TIMEOUT_MS)
        wait_until_rendered(page)
        # The browser may keep showing the last navigation; following it must still ask for the login.
        links = page.locator(NAV_LINKS)
        if links.count():
            links.last.click()
            page.wait_for_timeout(500)
            wait_until_rendered(page)
            assert page.locator('[data-testid="stForm"]').count() == 1
            assert "rosa" not in page.locator('[data-testid="stSidebar"]').inner_text()
    finally:
        context.close()


def test_reviewer_sees_no_decision_buttons_a_researcher_sees(chromium, shared_server):
    seen = {}
    for name, password in (("rosa", "researcher passphrase"), ("ravi", "reviewer passphrase")):
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        try:
            page.goto(shared_server + "/", wait_until="domcontentloaded")
            wait_until_rendered(page)
            log_in(page, name, password)
            if not open_review(page):
                pytest.skip("the app has no Review page in its navigation")
            screenshot(page, f"review_as_{name}")
            assert not exceptions(page)
            seen[name] = decision_buttons(page)
        finally:
            context.close()
    assert seen["rosa"], "a researcher sees no accept/reject/recode buttons on Review, so the check means nothing"
    assert seen["ravi"] == []
