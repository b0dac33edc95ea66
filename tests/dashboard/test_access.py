"""Who is using the dashboard: the local researcher, and the login form when it is shared."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from toolkit import auth
from toolkit.auth import User

PASSWORD = "a long passphrase"

APP = """
import streamlit as st
from dashboards.access import current_user
user = current_user()
st.title("Inside")
st.write(f"user={user.name} role={user.role}")
"""


@pytest.fixture
def users(tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    monkeypatch.setenv("TOOLKIT_USERS", str(path))
    monkeypatch.setattr(auth, "SCRYPT_N", 2**8)
    monkeypatch.setattr(auth, "SCRYPT_P", 1)
    auth.add_user("asha", "researcher", PASSWORD, path=path)
    auth.add_user("ben", "reviewer", "another long one", path=path)
    from dashboards import access

    access._failures.clear()  # failed attempts are counted per server process; start each test at zero
    yield path
    access._failures.clear()


def app() -> AppTest:
    return AppTest.from_string(APP, default_timeout=30)


def texts(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " " + " ".join(t.value for t in at.title)


def log_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_local_use_needs_no_login(monkeypatch):
    monkeypatch.delenv("TOOLKIT_AUTH", raising=False)
    monkeypatch.setenv("TOOLKIT_USER", "asha")
    at = app().run()
    assert not at.exception
    assert "user=asha role=researcher" in texts(at)
    assert not at.text_input


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


def test_shared_dashboard_shows_login_and_stops(users, monkeypatch):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    at = app().run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Name", "Password"]
    assert "Inside" not in texts(at)


def test_wrong_password_is_refused_without_saying_which_part(users, monkeypatch):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    at = log_in(app().run(), "asha", "not the password")
    assert [e.value for e in at.error] == ["Name or password not recognised. Check both and try again."]
    assert "Inside" not in texts(at)
    at = log_in(at, "nobody", PASSWORD)
    assert [e.value for e in at.error] == ["Name or password not recognised. Check both and try again."]


def test_right_password_gets_in_with_the_role_and_a_log_out(users, monkeypatch):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    at = log_in(app().run(), "ben", "another long one")
    assert not at.exception
    assert "user=ben role=reviewer" in texts(at)
    assert at.session_state["toolkit_user"] == User("ben", "reviewer")
    assert PASSWORD not in repr([at.session_state[k] for k in at.session_state])
    sidebar = [node for node in at.sidebar.children.values() if node.type in ("caption", "button")]
    assert [node.type for node in sidebar] == ["caption", "button"]  # who is signed in, then the way out
    assert "Signed in as **ben** (reviewer)" in sidebar[0].value
    (log_out,) = [b for b in at.sidebar.button if b.label == "Log out"]
    at = log_out.click().run()
    assert "Inside" not in texts(at)
    assert [t.label for t in at.text_input] == ["Name", "Password"]


def test_removed_user_is_logged_out(users, monkeypatch):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    at = log_in(app().run(), "asha", PASSWORD)
    assert "user=asha" in texts(at)
    auth.remove_user("asha", path=users)
    at.run()
    assert "Inside" not in texts(at)
    assert any("log in again" in w.value for w in at.warning)


def test_no_users_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    monkeypatch.setenv("TOOLKIT_USERS", str(tmp_path / "none.toml"))
    at = app().run()
    assert "toolkit users add NAME --role researcher" in at.error[0].value
    assert not at.text_input


def test_slows_down_after_five_failures(users, monkeypatch):
    from dashboards import access

    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    assert [access._delay_for(n) for n in (0, 4, 5, 6, 7, 50)] == [0, 0, 2, 4, 8, access.MAX_DELAY_S]
    slept = []
    monkeypatch.setattr(access.time, "sleep", slept.append)
    at = app().run()
    for _ in range(6):
        at = log_in(at, "asha", "not the password")
    assert slept  # the sixth attempt waited


def test_unreadable_users_file_is_reported_without_its_path(tmp_path, monkeypatch):
    bad = tmp_path / "users.toml"
    bad.write_text("[[user]\n", encoding="utf-8")
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    monkeypatch.setenv("TOOLKIT_USERS", str(bad))
    at = app().run()
    assert "users file cannot be read" in at.error[0].value
    assert str(tmp_path) not in at.error[0].value
    assert not at.text_input
