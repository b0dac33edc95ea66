"""Serving the dashboard: the command line, loopback detection, and refusing to share with no users."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from toolkit import auth, serve
from toolkit.config import StudyConfig
from toolkit.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


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
    monkeypatch.setattr(auth, "SCRYPT_N", 2**8)
    monkeypatch.setattr(auth, "SCRYPT_P", 1)
    return path


def test_command_runs_streamlit_on_the_app_for_the_study(fake_app, tmp_path):
    command = serve.dashboard_command(tmp_path / "study", host="127.0.0.1", port=8765)
    assert command == [
        sys.executable, "-m", "streamlit", "run", str(fake_app),
        "--server.address", "127.0.0.1", "--server.port", "8765",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
        "--", "--study", str((tmp_path / "study").resolve()),
    ]  # fmt: skip


def test_command_defaults_to_this_machine(fake_app):
    command = serve.dashboard_command("interviews")
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8501"
    assert Path(command[-1]).is_absolute()


@pytest.mark.parametrize("port", [0, 70000, "8501"])
def test_bad_port_refused(fake_app, port):
    with pytest.raises(ConfigError, match="expected a number from 1 to 65535"):
        serve.dashboard_command("interviews", port=port)


def test_missing_app_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(serve, "__file__", str(tmp_path / "toolkit" / "serve.py"))
    with pytest.raises(ConfigError, match=r"dashboard's entry page is missing.*pip install -e \."):
        serve.dashboard_app_path()


def test_app_is_found_beside_the_package():
    app = REPO / "dashboards" / "app.py"
    if not app.exists():
        pytest.skip("dashboards/app.py not written yet")
    assert serve.dashboard_app_path() == app


@pytest.mark.parametrize(
    "host, local",
    [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("myserver.example.org", False)],
)  # fmt: skip
def test_is_loopback(host, local):
    assert serve.is_loopback(host) is local


def test_local_serving_needs_no_users_and_sets_no_login(users):
    env = serve.dashboard_env("127.0.0.1", {"PATH": "/bin"})
    assert "TOOLKIT_AUTH" not in env and env["PATH"] == "/bin"


def test_local_serving_keeps_an_explicit_login_requirement(users):
    env = serve.dashboard_env("127.0.0.1", {"TOOLKIT_AUTH": "required"})
    assert env["TOOLKIT_AUTH"] == "required"


def test_sharing_with_no_users_is_refused_with_the_command_to_run(users, fake_app, monkeypatch):
    calls = []
    monkeypatch.setattr(serve.subprocess, "run", lambda *a, **k: calls.append(a))
    with pytest.raises(ConfigError, match=r"no users\. Add one first with `toolkit users add NAME --role researcher`"):
        serve.serve_dashboard(StudyConfig.default(users.parent), host="0.0.0.0", port=8765)
    assert calls == []  # nothing was started


def test_sharing_requires_login_and_pins_the_users_file(users, fake_app, monkeypatch):
    auth.add_user("asha", "researcher", "a long passphrase", path=users)
    seen = {}

    class Done:
        returncode = 0

    def fake_run(command, env, check):
        seen.update(command=command, env=env)
        return Done()

    monkeypatch.setenv("TOOLKIT_AUTH", "off")  # cannot be switched off when shared
    monkeypatch.setattr(serve.subprocess, "run", fake_run)
    assert serve.serve_dashboard(StudyConfig.default(users.parent), host="0.0.0.0", port=8765) == 0
    assert seen["env"]["TOOLKIT_AUTH"] == "required"
    assert seen["env"]["TOOLKIT_USERS"] == str(users)
    assert seen["command"][seen["command"].index("--server.address") + 1] == "0.0.0.0"


def test_local_serve_runs_the_command(users, fake_app, monkeypatch, tmp_path):
    seen = {}

    class Done:
        returncode = 3

    monkeypatch.delenv("TOOLKIT_AUTH", raising=False)
    monkeypatch.setattr(serve.subprocess, "run", lambda command, env, check: seen.update(env=env) or Done())
    assert serve.serve_dashboard(StudyConfig.default(tmp_path), port=8765) == 3
    assert "TOOLKIT_AUTH" not in seen["env"]
