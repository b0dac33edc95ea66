"""The dashboard in a real headless Chromium: every page renders, nothing is asked of another site, a page on
another site cannot read the study (DNS rebinding, cross-site websocket), and sign-in works (passwords and
single sign-on against a local OpenID Connect provider), surviving a reload.

The server is started as ``toolkit dashboard`` (:func:`toolkit.serve.dashboard_command`), on a free port,
against a copy of the sample study whose store is built once per module with the real models (the security
tests use a tiny hand-built study instead). Pages are found from the app's own navigation, not listed here. A full-page screenshot of each
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
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO, SAMPLE_STUDY
from tests.dashboard.conftest import build_tiny_study
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
    # A site on the internet whose name now resolves to this machine, as after DNS rebinding.
    "--host-resolver-rules=MAP attacker.test 127.0.0.1",
    # Chromium's own guard for local addresses (Local/Private Network Access) would stop the attack page before
    # it reaches the dashboard; switched off, so the tests show the dashboard refuses it by itself (older or other
    # browsers, or a page that found a way around, get no further).
    (
        "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
        "PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults"
    ),
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
SCREENSHOTS = REPO / "tests" / "artifacts" / "screenshots"
NAV_LINKS = '[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"]'
RAW_DIRECTIVE = re.compile(r":(?:gray|small|blue-background|[a-z]+-badge)\[")
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
def dashboard(study: Path, log: Path, extra_env: dict[str, str] | None = None, *, port: int | None = None):
    """Serve the dashboard as ``toolkit dashboard`` does (its own process); yields its base URL."""
    port = port or free_port()
    command = serve.dashboard_command(study, host="127.0.0.1", port=port)
    env = {k: v for k, v in os.environ.items() if k not in ("TOOLKIT_AUTH", "TOOLKIT_SIGN_IN")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra_env or {})
    env.setdefault("HF_HUB_OFFLINE", "1")
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
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
    """Fill the server's sign-in page (toolkit.serve) and submit it."""
    page.locator("#name").fill(name)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if page.locator("#password").count() == 0:  # signed in: the dashboard loads
        wait_until_rendered(page)


def record_traffic(page) -> dict[str, list[str]]:
    """Every URL the page asks for (documents, assets, fetches, websockets) and every CSP complaint."""
    seen: dict[str, list[str]] = {"requests": [], "csp": []}
    page.on("request", lambda request: seen["requests"].append(request.url))
    page.on("websocket", lambda ws: seen["requests"].append(ws.url))
    page.on("console", lambda msg: seen["csp"].append(msg.text) if "Content Security Policy" in msg.text else None)
    return seen


def foreign(urls: list[str]) -> list[str]:
    """The URLs that would leave this machine."""
    return [u for u in urls if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname not in LOCAL_HOSTS]


# --- tests ---------------------------------------------------------------------------------------


def test_every_page_renders_in_a_real_browser_and_asks_no_other_site(chromium, server):
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    traffic = record_traffic(page)
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
            # Markdown styling (a quote card's small grey coding line, badges) is drawn, never shown as written.
            raw = RAW_DIRECTIVE.findall(main)
            assert not raw, f"{label}: markdown shown as written: {raw[:3]}"
        assert not problems, "Streamlit exceptions:\n" + "\n\n".join(f"{k}:\n{v[0]}" for k, v in problems.items())
        assert not js_errors, f"JavaScript errors in the page: {js_errors[:3]}"
        # No request leaves the machine (the favicon used to come from fonts.gstatic.com), and none was even
        # tried and blocked by the Content-Security-Policy.
        assert len(traffic["requests"]) > 20, "the browser recorded too few requests for the check to mean anything"
        assert not foreign(traffic["requests"]), f"requests to other sites: {foreign(traffic['requests'])[:5]}"
        assert not traffic["csp"], f"the page tried to reach other sites: {traffic['csp'][:3]}"
        assert any(u.endswith(".png") and "/media/" in u for u in traffic["requests"]), "no local favicon"
    finally:
        context.close()


# --- a page on another site (tiny study, local mode) ------------------------------------------------------------

ATTACK = """<!doctype html><title>cute cats</title><script>
window.results = {};
function tryWebsocket(name, url) {
  return new Promise(resolve => {
    const ws = new WebSocket(url, ["streamlit"]);
    ws.onopen = () => { window.results[name] = "open"; ws.close(); resolve(); };
    ws.onerror = () => { window.results[name] = window.results[name] || "refused"; resolve(); };
    ws.onclose = () => { window.results[name] = window.results[name] || "refused"; resolve(); };
  });
}
(async () => {
  try {
    const reply = await fetch("/", {cache: "no-store"});
    window.results.page = {status: reply.status, text: await reply.text()};
  } catch (e) { window.results.page = {status: 0, text: String(e)}; }
  await tryWebsocket("rebound", "ws://" + location.host + "/_stcore/stream");
  await tryWebsocket("direct", "ws://127.0.0.1:" + location.port + "/_stcore/stream");
  window.results.done = true;
})();
</script>"""


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory, chromium):
    folder = tmp_path_factory.mktemp("tiny-browser")
    study = build_tiny_study(folder / "study")
    with dashboard(study, folder / "streamlit.log", {"TOOLKIT_USER": "browser-test"}) as url:
        yield url, folder / "streamlit.log"


def test_a_page_on_another_site_cannot_read_the_study(chromium, tiny_server):
    """DNS rebinding: attacker.test's page, its name now resolving to 127.0.0.1, reads the dashboard's port."""
    tiny_server, log = tiny_server
    port = urlsplit(tiny_server).port
    context = chromium.new_context()
    page = context.new_page()
    try:
        # The attacker's page, as first served from the attacker's own server (before the name re-points).
        page.route(f"http://attacker.test:{port}/cats.html",
                   lambda route: route.fulfill(status=200, content_type="text/html", body=ATTACK))
        page.goto(f"http://attacker.test:{port}/cats.html")
        page.wait_for_function("() => window.results && window.results.done", timeout=60_000)
        results = page.evaluate("() => window.results")
        assert results["page"]["status"] == 403, results["page"]
        assert "<html" not in results["page"]["text"].lower()
        assert results["rebound"] == "refused"  # Host and Origin both attacker.test
        assert results["direct"] == "refused"  # Host 127.0.0.1, Origin attacker.test
        server_log = log.read_text()
        assert "refused a request for another site's name (Host 'attacker.test" in server_log  # it got there
        assert "refused a websocket from another site" in server_log
        # The rebound name typed into the address bar gets nothing either.
        reply = page.goto(f"http://attacker.test:{port}/")
        assert reply.status == 403 and page.locator('[data-testid="stApp"]').count() == 0

        # The same websocket from the dashboard's own page opens: the test can tell the difference.
        page.goto(tiny_server + "/")
        wait_until_rendered(page)
        opened = page.evaluate("""url => new Promise(resolve => { const ws = new WebSocket(url, ["streamlit"]);
            ws.onopen = () => { ws.close(); resolve("open"); }; ws.onerror = () => resolve("refused"); })""",
                               f"ws://127.0.0.1:{port}/_stcore/stream")
        assert opened == "open"
    finally:
        context.close()


# --- sign-in with passwords (the sample study, shared) ---------------------------------------------------------


@pytest.fixture(scope="module")
def users_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("users")
    path = folder / "users.toml"
    auth.add_user("rosa", "researcher", "researcher passphrase", path=path)
    auth.add_user("ravi", "reviewer", "reviewer passphrase", path=path)
    auth.add_user("lena", "reviewer", "locked out passphrase", path=path)
    sign_in = folder / "sign-in.toml"  # a short fuse for the lockout test: two failures lock a name
    sign_in.write_text("[limits]\naccount_free = 1\naccount_lockout = 2\nlockout_minutes = 15\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shared_server(study, users_file, tmp_path_factory):
    log = tmp_path_factory.mktemp("shared") / "streamlit.log"
    env = {"TOOLKIT_AUTH": "required", "TOOLKIT_USERS": str(users_file),
           "TOOLKIT_SIGN_IN": str(users_file.parent / "sign-in.toml")}
    with dashboard(study, log, env) as url:
        yield url


def review_url(page) -> str | None:
    return next((url for label, url in nav_pages(page) if "review" in label.lower()), None)


def open_review(page) -> bool:
    """Go to the Review page through the navigation."""
    link = page.locator(NAV_LINKS).filter(has_text=re.compile("review", re.IGNORECASE))
    if not link.count():
        return False
    link.first.click()
    page.wait_for_timeout(500)
    wait_until_rendered(page)
    return True


def test_sign_in_refuses_a_wrong_password_admits_the_right_one_and_survives_a_reload(chromium, shared_server):
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        for path in ("", "review", "export", "quotes", "common", "overview"):
            page.goto(f"{shared_server}/{path}", wait_until="domcontentloaded")
            assert urlsplit(page.url).path == "/toolkit/sign-in", f"/{path} is served without a sign-in"
            assert page.locator('input[type="password"]').count() == 1
        screenshot(page, "sign_in")

        log_in(page, "rosa", "not the passphrase")
        assert "Name or password not recognised" in page.locator(".error").inner_text()
        screenshot(page, "sign_in_refused")

        log_in(page, "rosa", "researcher passphrase")
        assert "rosa" in page.locator('[data-testid="stSidebar"]').inner_text()
        assert not exceptions(page)
        cookie = next(c for c in context.cookies() if c["name"] == "toolkit_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("() => document.cookie").find("toolkit_session") == -1  # scripts cannot read it

        page.reload(wait_until="domcontentloaded")  # the issue: a reload signed people out
        wait_until_rendered(page)
        assert "rosa" in page.locator('[data-testid="stSidebar"]').inner_text()
        assert page.locator('input[type="password"]').count() == 0

        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
        page.get_by_text("You have signed out.").wait_for(timeout=RENDER_TIMEOUT_MS)
        page.reload(wait_until="domcontentloaded")  # the cookie is still in the browser, but revoked on the server
        assert urlsplit(page.url).path == "/toolkit/sign-in"
        assert page.locator('input[type="password"]').count() == 1
    finally:
        context.close()


def test_failed_sign_ins_lock_the_name_with_a_clear_message(chromium, shared_server):
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.goto(shared_server + "/", wait_until="domcontentloaded")
        log_in(page, "lena", "first wrong guess")
        log_in(page, "lena", "second wrong guess")
        log_in(page, "lena", "locked out passphrase")  # right, but the name is locked
        message = page.locator(".error").inner_text()
        assert message.startswith("Too many failed sign-ins for this name: signing in is locked for 15 minutes")
        assert page.locator('input[type="password"]').count() == 1
        screenshot(page, "sign_in_locked")
    finally:
        context.close()


def test_reviewer_sees_no_decision_buttons_a_researcher_sees(chromium, shared_server):
    seen = {}
    for name, password in (("rosa", "researcher passphrase"), ("ravi", "reviewer passphrase")):
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        try:
            page.goto(shared_server + "/", wait_until="domcontentloaded")
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


# --- organisational single sign-on against a local OpenID Connect provider (tiny study) -----------------------


def test_single_sign_on_maps_people_to_roles_and_survives_a_reload(chromium, tmp_path):
    provider = pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is not installed")
    port = free_port()
    study = build_tiny_study(tmp_path / "study")
    sign_in = tmp_path / "sign-in.toml"
    with provider.run_server_in_thread() as idp:
        issuer = f"http://localhost:{idp.server_port}"
        sign_in.write_text(
            f'url = "http://localhost:{port}"\n[sso]\nlabel = "Test provider"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
            'client_id = "dashboard"\nclient_secret_env = "TEST_SSO_SECRET"\n'
            '[sso.users]\n"asha@nhs.example" = "reviewer"\n', encoding="utf-8")
        sign_in.chmod(0o600)
        env = {"TOOLKIT_AUTH": "required", "TOOLKIT_USERS": str(tmp_path / "users.toml"),
               "TOOLKIT_SIGN_IN": str(sign_in), "TEST_SSO_SECRET": "test-only-secret"}
        with dashboard(study, tmp_path / "streamlit.log", env, port=port):
            context = chromium.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            try:
                for person, role in (("asha@nhs.example", "reviewer"), ("stranger@example.com", None)):
                    page.goto(f"http://localhost:{port}/", wait_until="domcontentloaded")
                    assert urlsplit(page.url).path == "/toolkit/sign-in"
                    page.get_by_role("link", name="Sign in with Test provider").click()
                    page.wait_for_url(f"{issuer}/**", timeout=RENDER_TIMEOUT_MS)  # Streamlit's st.login sent us
                    page.locator('input[name="sub"]').fill(person)
                    page.get_by_role("button", name="Authorize").click()
                    page.wait_for_url(f"http://localhost:{port}/**", timeout=RENDER_TIMEOUT_MS)
                    wait_until_rendered(page)
                    if role:
                        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
                        assert f"{person} ({role})" in sidebar
                        page.reload(wait_until="domcontentloaded")
                        wait_until_rendered(page)
                        assert f"{person} ({role})" in page.locator('[data-testid="stSidebar"]').inner_text()
                        screenshot(page, "single_sign_on")
                        context.clear_cookies()
                    else:
                        assert "has no role on this dashboard" in page.locator('[data-testid="stMain"]').inner_text()
                        assert page.locator(NAV_LINKS).count() == 0
            finally:
                context.close()
