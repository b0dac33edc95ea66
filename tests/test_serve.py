"""Serving the dashboard: the guard (Host/Origin), security headers, the sign-in pages, settings for Streamlit.

The guard and sign-in routes are tested in-process on a small Starlette app (Starlette's TestClient); the same
middleware and routes wrap Streamlit in ``toolkit dashboard`` (tests/test_serve_process.py runs the real server).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from toolkit import auth, serve, signin
from toolkit.config import StudyConfig
from toolkit.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
PORT = 8765
LOCAL = f"http://127.0.0.1:{PORT}"
QUOTES = "the study's quotes"


@pytest.fixture
def fake_app(tmp_path, monkeypatch):
    """Pretend the app exists, so these tests do not depend on the dashboard pages."""
    app = tmp_path / "dashboards" / "app.py"
    app.parent.mkdir()
    app.write_text("import streamlit as st\n")
    monkeypatch.setattr(serve, "dashboard_app_path", lambda: app)
    return app


@pytest.fixture
def users(tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    monkeypatch.setenv("TOOLKIT_USERS", str(path))
    monkeypatch.delenv("TOOLKIT_SIGN_IN", raising=False)
    monkeypatch.setattr(auth, "SCRYPT_N", 2**8)
    monkeypatch.setattr(auth, "SCRYPT_P", 1)
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)
    return path


def inner_app() -> Starlette:
    """Stands in for Streamlit: a page, and a websocket that sends the quotes once open."""

    async def page(request):
        return PlainTextResponse(QUOTES)

    async def stream(websocket):
        await websocket.accept()
        await websocket.send_text(QUOTES)
        await websocket.close()

    return Starlette(routes=[Route("/", page), Route("/review", page), Route("/_stcore/health", page),
                             WebSocketRoute("/_stcore/stream", stream)])


def guarded(guard: serve.Guard, routes=(), **kwargs) -> TestClient:
    app = inner_app()
    for route in routes:
        app.router.routes.insert(0, route)
    app.add_middleware(serve.GuardMiddleware, guard=guard, **kwargs)
    return TestClient(app, base_url=LOCAL)


# --- local mode: this machine only ------------------------------------------------------------------


@pytest.mark.parametrize("host", [f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}", f"LOCALHOST:{PORT}"])
def test_local_addresses_are_served(host):
    reply = guarded(serve.local_guard(PORT)).get("/", headers={"host": host})
    assert reply.status_code == 200 and reply.text == QUOTES


@pytest.mark.parametrize(
    "host",
    ["attacker.example:8765", "attacker.example", "127.0.0.1:9999", "127.0.0.1", "localhost.:8765",
     "127.0.0.1.nip.io:8765", "user@127.0.0.1:8765", "", "0.0.0.0:8765", "192.168.1.20:8765"],
)
def test_dns_rebinding_host_is_refused(host):
    """A page on another site whose name now points at 127.0.0.1 sends its own name as Host: refused."""
    reply = guarded(serve.local_guard(PORT)).get("/", headers={"host": host})
    assert reply.status_code == 403 and QUOTES not in reply.text


def open_stream(client: TestClient, **headers) -> str:
    with client.websocket_connect("/_stcore/stream", headers=headers) as ws:
        return ws.receive_text()


def test_websocket_from_the_local_origin_opens():
    client = guarded(serve.local_guard(PORT))
    assert open_stream(client, host=f"127.0.0.1:{PORT}", origin=LOCAL) == QUOTES
    assert open_stream(client, host=f"localhost:{PORT}", origin=f"http://localhost:{PORT}") == QUOTES


@pytest.mark.parametrize(
    "host, origin",
    [
        ("attacker.example:8765", "http://attacker.example:8765"),  # DNS rebinding: Host and Origin agree, foreign
        (f"127.0.0.1:{PORT}", "http://attacker.example"),  # a foreign page opening ws://127.0.0.1:PORT
        (f"127.0.0.1:{PORT}", "http://localhost:3000"),  # another local web app (Streamlit itself lets this in)
        (f"127.0.0.1:{PORT}", "null"),  # a sandboxed iframe or a file:// page
        (f"127.0.0.1:{PORT}", None),  # no Origin: not a browser page; refused as well
    ],
)
def test_websocket_from_another_origin_is_refused(host, origin):
    client = guarded(serve.local_guard(PORT))
    headers = {"host": host} | ({"origin": origin} if origin else {})
    with pytest.raises(WebSocketDisconnect) as info:
        open_stream(client, **headers)
    assert info.value.code == 1008


def test_cross_site_request_is_refused_and_same_site_served():
    client = guarded(serve.local_guard(PORT))
    assert client.post("/", headers={"origin": "http://attacker.example"}).status_code == 403
    assert client.get("/", headers={"origin": "http://attacker.example"}).status_code == 403
    assert client.get("/", headers={"origin": LOCAL}).status_code == 200


def test_every_response_forbids_other_sites_and_framing():
    reply = guarded(serve.local_guard(PORT)).get("/")
    csp = reply.headers["content-security-policy"]
    assert "default-src 'self' data: blob:" in csp and "connect-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert not re.search(r"https?://", csp)  # no other site may be asked for anything
    assert reply.headers["x-frame-options"] == "DENY" and reply.headers["referrer-policy"] == "no-referrer"
    refused = guarded(serve.local_guard(PORT)).get("/", headers={"host": "attacker.example"})
    assert refused.headers["content-security-policy"] == csp


# --- shared mode ---------------------------------------------------------------------------------


def test_shared_guard_answers_its_url_and_machine_names_only():
    guard = serve.shared_guard("0.0.0.0", signin.SignInSettings(url="https://dash.example.org"))
    assert guard.host_allowed("dash.example.org") and guard.host_allowed("dash.example.org:443")
    assert guard.host_allowed("localhost:8501")
    assert not guard.host_allowed("attacker.example")
    assert guard.origin_allowed("https://dash.example.org", "dash.example.org")
    assert guard.origin_allowed("http://localhost:8501", "localhost:8501")  # same origin as the page
    assert not guard.origin_allowed("https://attacker.example", "dash.example.org")
    assert not guard.origin_allowed("http://attacker.example", "attacker.example")


# --- sign-in pages -------------------------------------------------------------------------------


@pytest.fixture
def sign_in(users, tmp_path):
    auth.add_user("asha", "researcher", "a long passphrase", path=users)
    settings = signin.SignInSettings(limits=signin.Limits(account_free=2, account_lockout=4),
                                     path=tmp_path / "sign-in.toml")
    state = serve.sign_in_state(settings, users)

    def session_ok(cookies):
        return state.session(cookies.get(signin.SESSION_COOKIE)) is not None

    client = guarded(serve.local_guard(PORT), routes=serve.sign_in_routes(state), sign_in=True,
                     session_ok=session_ok)
    return client, state


def submit(client, name, password, *, origin=LOCAL, next_path="/"):
    return client.post(serve.SIGN_IN_PATH, data={"name": name, "password": password, "next": next_path},
                       headers={"origin": origin} if origin else {}, follow_redirects=False)


def page(client) -> int:
    return client.get("/review", headers={"accept": "text/html"}, follow_redirects=False)


def test_page_loads_without_a_session_go_to_sign_in(sign_in):
    client, _ = sign_in
    reply = page(client)
    assert reply.status_code == 303 and reply.headers["location"] == "/toolkit/sign-in?next=/review"
    form = client.get("/toolkit/sign-in")
    assert form.status_code == 200 and 'type="password"' in form.text and 'action="/toolkit/sign-in"' in form.text
    assert form.headers["cache-control"] == "no-store"
    assert client.get("/_stcore/health").status_code == 200  # Streamlit's own paths are not redirected
    assert client.get("/?sso=1", headers={"accept": "text/html"}, follow_redirects=False).status_code == 200


def test_sign_in_sets_a_private_cookie_that_survives_a_reload(sign_in):
    client, state = sign_in
    reply = submit(client, "asha", "a long passphrase", next_path="/review")
    assert reply.status_code == 303 and reply.headers["location"] == "/review"
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith("toolkit_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=43200" in cookie and "Path=/" in cookie
    assert "a long passphrase" not in cookie
    for _ in range(2):  # a reload, and another
        assert page(client).status_code == 200
    token = client.cookies[signin.SESSION_COOKIE]
    assert state.session(token).name == "asha"


def test_wrong_password_is_refused_without_saying_which_part(sign_in):
    client, _ = sign_in
    for name, password in (("asha", "not the password"), ("nobody", "a long passphrase")):
        reply = submit(client, name, password)
        assert reply.status_code == 401 and "Name or password not recognised" in reply.text
        assert "set-cookie" not in reply.headers
    assert page(client).status_code == 303


def test_sign_in_needs_an_origin_and_stays_on_this_site(sign_in):
    client, _ = sign_in
    assert submit(client, "asha", "a long passphrase", origin=None).status_code == 403
    assert submit(client, "asha", "a long passphrase", origin="http://attacker.example").status_code == 403
    for evil in ("//attacker.example/", "https://attacker.example/", "/\\attacker.example"):
        assert submit(client, "asha", "a long passphrase", next_path=evil).headers["location"] == "/"


def test_failed_sign_ins_lock_the_name_even_for_the_right_password(sign_in):
    client, _ = sign_in
    statuses = [submit(client, "asha", f"guess number {n}").status_code for n in range(6)]
    assert statuses[:3] == [401, 401, 401] and 429 in statuses
    locked = submit(client, "asha", "a long passphrase")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins for this name" in locked.text
    assert "set-cookie" not in locked.headers


def test_sign_out_revokes_the_session_and_so_does_a_new_password(sign_in, users):
    client, state = sign_in
    submit(client, "asha", "a long passphrase")
    token = client.cookies[signin.SESSION_COOKIE]
    reply = client.get(serve.SIGN_OUT_PATH, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == serve.SIGN_IN_PATH
    assert state.session(token) is None  # a copy of the old cookie no longer works
    client.cookies.clear()
    client.cookies.set(signin.SESSION_COOKIE, token)
    assert page(client).status_code == 303
    client.cookies.clear()
    submit(client, "asha", "a long passphrase")
    token = client.cookies[signin.SESSION_COOKIE]
    auth.add_user("asha", "researcher", "a brand new passphrase", path=users)
    assert state.session(token) is None and page(client).status_code == 303


# --- the process and Streamlit's settings -------------------------------------------------------


def test_command_runs_the_toolkit_dashboard_in_one_process(fake_app, tmp_path):
    command = serve.dashboard_command(tmp_path / "study", host="127.0.0.1", port=PORT)
    assert command == [sys.executable, "-m", "toolkit", "dashboard", str((tmp_path / "study").resolve()),
                       "--host", "127.0.0.1", "--port", str(PORT)]


@pytest.mark.parametrize("port", [0, 70000, "8501", True])
def test_bad_port_refused(fake_app, port):
    with pytest.raises(ConfigError, match="expected a number from 1 to 65535"):
        serve.dashboard_command("interviews", port=port)


def test_missing_app_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(serve, "__file__", str(tmp_path / "toolkit" / "serve.py"))
    with pytest.raises(ConfigError, match=r"dashboard's entry page is missing.*pip install -e \."):
        serve.dashboard_app_path()


def test_app_is_found_beside_the_package():
    assert serve.dashboard_app_path() == REPO / "dashboards" / "app.py"


@pytest.mark.parametrize(
    "host, local",
    [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("myserver.example.org", False)],
)  # fmt: skip
def test_is_loopback(host, local):
    assert serve.is_loopback(host) is local


def test_streamlit_settings_keep_everything_local():
    config = serve.run_config("127.0.0.1", PORT, serve.local_guard(PORT))
    assert config["server.address"] == "127.0.0.1" and config["server.port"] == PORT
    assert config["browser.gatherUsageStats"] is False
    assert config["browser.serverAddress"] == "127.0.0.1"  # else Streamlit asks an internet service for our address
    assert sorted(config["server.allowedHosts"]) == ["127.0.0.1", "::1", "localhost"]
    assert config["server.enableCORS"] is True and config["server.enableXsrfProtection"] is True
    assert config["server.enableAgentApi"] is False and config["server.fileWatcherType"] == "none"


def test_streamlit_app_takes_our_middleware_and_routes(fake_app, users, tmp_path):
    """st.App's extension points (Streamlit >= 1.5x) and the one private name relied on, pinned."""
    import streamlit as st
    from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

    assert USER_COOKIE_NAME == "_streamlit_user" == serve._sso_cookie_name()
    app, guard = serve.build_app(tmp_path, host="127.0.0.1", port=PORT, env={})
    assert isinstance(app, st.App) and guard == serve.local_guard(PORT)
    assert [m.cls for m in app._user_middleware] == [serve.GuardMiddleware]
    auth.add_user("asha", "researcher", "a long passphrase", path=users)
    env = serve.dashboard_env("0.0.0.0", {"TOOLKIT_USERS": str(users)})
    app, guard = serve.build_app(tmp_path, host="0.0.0.0", port=PORT, env=env)
    assert {r.path for r in app._user_routes} == {serve.SIGN_IN_PATH, serve.SIGN_OUT_PATH}
    assert not guard.exact
    (users.parent / "sign-in.toml").write_text('url = "https://dash.example.org"\n', encoding="utf-8")
    behind_proxy = serve.dashboard_env("127.0.0.1", {"TOOLKIT_USERS": str(users), "TOOLKIT_AUTH": "required"})
    _, guard = serve.build_app(tmp_path, host="127.0.0.1", port=PORT, env=behind_proxy)
    assert guard.host_allowed("dash.example.org") and guard.origin_allowed("https://dash.example.org",
                                                                           "dash.example.org")
    assert not guard.host_allowed("attacker.example")


def test_local_serving_needs_no_users_and_sets_no_sign_in(users):
    env = serve.dashboard_env("127.0.0.1", {"PATH": "/bin"})
    assert "TOOLKIT_AUTH" not in env and env["PATH"] == "/bin"


def test_local_serving_keeps_an_explicit_sign_in_requirement(users):
    auth.add_user("asha", "researcher", "a long passphrase", path=users)
    env = serve.dashboard_env("127.0.0.1", {"TOOLKIT_AUTH": "required", "TOOLKIT_USERS": str(users)})
    assert env["TOOLKIT_AUTH"] == "required"


def test_sharing_with_nobody_to_sign_in_is_refused_with_the_command_to_run(users, fake_app, monkeypatch):
    calls = []
    monkeypatch.setattr(serve, "_run_app", lambda *a: calls.append(a))
    with pytest.raises(ConfigError, match=r"nobody can sign in.*`toolkit users add NAME --role researcher`"):
        serve.serve_dashboard(StudyConfig.default(users.parent), host="0.0.0.0", port=PORT)
    assert calls == []  # nothing was started


def test_sharing_requires_sign_in_and_pins_the_files(users, fake_app, monkeypatch):
    auth.add_user("asha", "researcher", "a long passphrase", path=users)
    monkeypatch.setenv("TOOLKIT_AUTH", "off")  # cannot be switched off when shared
    env = serve.dashboard_env("0.0.0.0")
    assert env["TOOLKIT_AUTH"] == "required" and env["TOOLKIT_USERS"] == str(users)
    assert env["TOOLKIT_SIGN_IN"] == str(users.parent / "sign-in.toml")


def test_serve_runs_the_app_in_this_process(users, fake_app, monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(serve, "_run_app", lambda app, config, root: seen.update(config=config, root=root))
    monkeypatch.setattr(serve.os, "environ", dict(serve.os.environ))  # serve_dashboard sets the page's environment
    assert serve.serve_dashboard(StudyConfig.default(tmp_path), port=PORT) == 0
    assert seen["root"] == tmp_path.resolve() and seen["config"]["server.port"] == PORT
    assert serve.os.environ["TOOLKIT_STUDY"] == str(tmp_path.resolve())


def test_a_broken_users_file_is_not_shown_to_the_network(sign_in, users):
    client, _ = sign_in
    users.write_text("[[user]\n", encoding="utf-8")
    for reply in (client.get(serve.SIGN_IN_PATH), submit(client, "asha", "a long passphrase")):
        assert reply.status_code in (200, 503) and str(users) not in reply.text
        assert "ask whoever runs the dashboard" in reply.text
