"""Who is using the dashboard: the local researcher, password sessions from the cookie, single sign-on roles."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from toolkit import auth, serve, signin
from toolkit.auth import User

PASSWORD = "a long passphrase"

APP = """
import streamlit as st
from dashboards.access import current_user
user = current_user()
st.title("Inside")
st.write(f"user={user.name} role={user.role}")
"""

SSO_TOML = """url = "http://localhost:8501"
[sso]
label = "Test provider"
server_metadata_url = "http://localhost:9/.well-known/openid-configuration"
client_id = "dashboard"
client_secret_env = "TEST_SSO_SECRET"
[sso.users]
"asha@nhs.example" = "reviewer"
"""


@pytest.fixture
def cookies(monkeypatch):
    """The cookies the browser 'sent' (AppTest cannot seed st.context.cookies)."""
    from dashboards import access

    jar: dict[str, str] = {}
    monkeypatch.setattr(access, "_request_cookies", lambda: jar)
    return jar


@pytest.fixture
def users(tmp_path, monkeypatch, cookies):
    from dashboards import access

    path = tmp_path / "users.toml"
    monkeypatch.setenv("TOOLKIT_USERS", str(path))
    monkeypatch.setenv("TOOLKIT_SIGN_IN", str(tmp_path / "sign-in.toml"))
    monkeypatch.setattr(auth, "SCRYPT_N", 2**8)
    monkeypatch.setattr(auth, "SCRYPT_P", 1)
    auth.add_user("asha", "researcher", PASSWORD, path=path)
    auth.add_user("ben", "reviewer", "another long one", path=path)
    access._sign_in.clear()  # the server's sign-in state is made once per process; start each test afresh
    yield path
    access._sign_in.clear()


def app() -> AppTest:
    return AppTest.from_string(APP, default_timeout=30)


def texts(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " " + " ".join(t.value for t in at.title)


def signed_in_cookie(users, name: str) -> str:
    """What the server's sign-in page sets after a right password (toolkit.serve)."""
    state = serve.sign_in_state(signin.load_sign_in(), users)
    token, _ = state.signer.issue(name, auth.user_fingerprint(name, path=users)[1])
    return token


def test_local_use_needs_no_sign_in(monkeypatch):
    monkeypatch.delenv("TOOLKIT_AUTH", raising=False)
    monkeypatch.setenv("TOOLKIT_USER", "asha")
    at = app().run()
    assert not at.exception
    assert "user=asha role=researcher" in texts(at)


def test_auth_off_means_local(monkeypatch):
    monkeypatch.setenv("TOOLKIT_AUTH", "off")
    monkeypatch.delenv("TOOLKIT_USER", raising=False)
    at = app().run()
    assert "role=researcher" in texts(at)


def test_a_test_can_inject_a_reviewer(monkeypatch):
    monkeypatch.delenv("TOOLKIT_AUTH", raising=False)
    at = app()
    at.session_state["toolkit_user"] = User("ben", "reviewer")
    at.run()
    assert "user=ben role=reviewer" in texts(at)


def test_shared_dashboard_without_a_session_shows_only_the_way_to_sign_in(users, monkeypatch):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    at = app().run()
    assert not at.exception
    assert "Inside" not in texts(at)
    assert [t.value for t in at.title] == ["Sign in"]
    assert any('href="/toolkit/sign-out"' in m.value for m in at.markdown)  # clears old cookies, then signs in


def test_a_forged_or_foreign_cookie_is_not_a_session(users, monkeypatch, cookies, tmp_path):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    token = signed_in_cookie(users, "asha")
    cookies[signin.SESSION_COOKIE] = token[:-3] + "abc"
    assert "Inside" not in texts(app().run())
    other = signin.SessionSigner(b"x" * 32, max_age_seconds=3600)
    cookies[signin.SESSION_COOKIE] = other.issue("asha", auth.user_fingerprint("asha", path=users)[1])[0]
    assert "Inside" not in texts(app().run())


def test_session_cookie_signs_in_with_the_role_and_survives_a_reload(users, monkeypatch, cookies):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    cookies[signin.SESSION_COOKIE] = signed_in_cookie(users, "ben")
    for _ in range(2):  # a reload is a new script session with the same cookie
        at = app().run()
        assert not at.exception
        assert "user=ben role=reviewer" in texts(at)
    sidebar = [node for node in at.sidebar.children.values() if node.type in ("caption", "button")]
    assert [node.type for node in sidebar] == ["caption", "button"]  # who is signed in, then the way out
    assert "Signed in as **ben** (reviewer)" in sidebar[0].value


def test_sign_out_revokes_the_cookie(users, monkeypatch, cookies):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    cookies[signin.SESSION_COOKIE] = signed_in_cookie(users, "asha")
    at = app().run()
    (sign_out,) = [b for b in at.sidebar.button if b.label == "Sign out"]
    at = sign_out.click().run()
    assert "Inside" not in texts(at)
    assert any("signed out" in s.value for s in at.success)
    assert "Inside" not in texts(app().run())  # a reload with the same cookie: it was revoked on the server


def test_removed_user_or_new_password_ends_the_session(users, monkeypatch, cookies):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    cookies[signin.SESSION_COOKIE] = signed_in_cookie(users, "asha")
    assert "user=asha" in texts(app().run())
    auth.add_user("asha", "researcher", "a brand new passphrase", path=users)
    assert "Inside" not in texts(app().run())
    cookies[signin.SESSION_COOKIE] = signed_in_cookie(users, "ben")
    auth.remove_user("ben", path=users)
    assert "Inside" not in texts(app().run())


def test_injected_user_that_was_removed_is_signed_out(users, monkeypatch):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    at = app()
    at.session_state["toolkit_user"] = User("asha", "researcher")
    assert "user=asha" in texts(at.run())
    auth.remove_user("asha", path=users)
    at.run()
    assert "Inside" not in texts(at)
    assert any("sign in again" in w.value for w in at.warning)


def test_unreadable_settings_are_reported_without_their_path(users, monkeypatch, tmp_path):
    (tmp_path / "sign-in.toml").write_text("url = [\n", encoding="utf-8")
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    at = app().run()
    assert "sign-in settings cannot be read" in at.error[0].value
    assert str(tmp_path) not in at.error[0].value
    assert "Inside" not in texts(at)


@pytest.fixture
def sso(users, tmp_path, monkeypatch):
    path = tmp_path / "sign-in.toml"
    path.write_text(SSO_TOML, encoding="utf-8")
    path.chmod(0o600)
    monkeypatch.setenv("TEST_SSO_SECRET", "not-a-real-secret")
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    return path


def test_single_sign_on_maps_the_person_to_their_role(sso):
    at = app()
    at.user = {"is_logged_in": True, "email": "Asha@NHS.example", "name": "Asha M", "iat": int(time.time()) - 60}
    at.run()
    assert not at.exception
    assert "user=asha@nhs.example role=reviewer" in texts(at)


def test_single_sign_on_without_a_role_is_told_so_and_sees_nothing(sso):
    at = app()
    at.user = {"is_logged_in": True, "email": "stranger@example.com", "iat": int(time.time())}
    at.run()
    assert "Inside" not in texts(at)
    assert "stranger@example.com" in at.error[0].value and "has no role" in at.error[0].value
    assert [b.label for b in at.button] == ["Sign out"]


def test_single_sign_on_ends_after_the_session_hours_not_streamlits_30_days(sso):
    at = app()
    at.user = {"is_logged_in": True, "email": "asha@nhs.example", "iat": int(time.time()) - 13 * 3600}
    at.run()
    assert "Inside" not in texts(at)
    assert "Your sign-in has ended" in at.info[0].value
    assert [b.label for b in at.button] == ["Sign in again"]
    at.user = {"is_logged_in": True, "email": "asha@nhs.example"}  # no time of issue: not trusted either
    assert "Inside" not in texts(at.run())
