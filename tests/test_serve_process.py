"""The real ``toolkit dashboard`` process: it is the server (no child left behind), it stops with the command,
and the real Streamlit behind it refuses a foreign Host or websocket Origin.

Each test starts ``python -m toolkit dashboard`` on a tiny study and a free port. The deadlines below only
bound how long a test waits for the server to start or stop; nothing asserts how fast it does.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.dashboard.conftest import build_tiny_study
from toolkit import serve

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DEADLINE_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def get(port: int, path: str = "/", host: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": host or f"127.0.0.1:{port}"})
    reply = conn.getresponse()
    return reply.status, reply.read()


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return build_tiny_study(tmp_path_factory.mktemp("served") / "study")


@contextmanager
def dashboard(study: Path, tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("TOOLKIT_AUTH", "TOOLKIT_SIGN_IN")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    log = open(tmp_path / "dashboard.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(serve.dashboard_command(study, port=port), env=env, cwd=tmp_path, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + DEADLINE_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"toolkit dashboard exited with {process.returncode}:\n"
                            f"{(tmp_path / 'dashboard.log').read_text()[-3000:]}")
            try:
                if get(port, "/_stcore/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("toolkit dashboard did not answer")
            time.sleep(0.3)
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def wait_stopped(process: subprocess.Popen, port: int) -> int:
    code = process.wait(timeout=DEADLINE_S)
    deadline = time.monotonic() + DEADLINE_S
    while answers(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    return code


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_stopping_the_command_stops_the_server(study, tmp_path, sig):
    """The issue: killing `toolkit dashboard` left its Streamlit server serving the study."""
    psutil = pytest.importorskip("psutil")
    with dashboard(study, tmp_path) as (process, port):
        assert psutil.Process(process.pid).children(recursive=True) == []  # the command is the server
        listeners = {c.laddr.port for c in psutil.Process(process.pid).net_connections(kind="tcp")
                     if c.status == psutil.CONN_LISTEN}
        assert port in listeners
        process.send_signal(sig)
        wait_stopped(process, port)
        assert not answers(port), "the study is still being served after the command was stopped"


def test_real_server_refuses_a_foreign_host_and_serves_its_own(study, tmp_path):
    with dashboard(study, tmp_path) as (_, port):
        status, body = get(port, "/", host=f"attacker.example:{port}")
        assert status == 403 and b"<html" not in body.lower()
        status, body = get(port, "/", host=f"localhost:{port}")
        assert status == 200 and b"<html" in body.lower()
        status, body = get(port, "/favicon.png", host=f"127.0.0.1:{port}")
        assert status == 200


def open_websocket(port: int, *, host: str, origin: str | None):
    from websockets.sync.client import connect

    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return connect(f"ws://{host}/_stcore/stream", sock=sock, origin=origin, open_timeout=30,
                   subprotocols=["streamlit"])


@pytest.mark.parametrize(
    "host, origin",
    [("attacker.example:{port}", "http://attacker.example:{port}"),  # DNS rebinding
     ("127.0.0.1:{port}", "http://attacker.example"),  # cross-site websocket
     ("127.0.0.1:{port}", "http://localhost:3000")],  # another web app on this machine
)
def test_real_server_refuses_foreign_websockets(study, tmp_path, host, origin):
    from websockets.exceptions import InvalidStatus

    with dashboard(study, tmp_path) as (_, port):
        with open_websocket(port, host=f"127.0.0.1:{port}", origin=f"http://127.0.0.1:{port}") as ws:
            assert ws.protocol.state.name == "OPEN"  # the page's own origin opens it: the check can tell
        with pytest.raises(InvalidStatus) as info:
            open_websocket(port, host=host.format(port=port), origin=origin.format(port=port))
        assert info.value.response.status_code == 403


def test_module_entry_point_is_used(study):
    command = serve.dashboard_command(study, port=8501)
    assert command[:4] == [sys.executable, "-m", "toolkit", "dashboard"]
