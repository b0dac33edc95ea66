"""Start the Streamlit dashboard on a study.

``toolkit dashboard [STUDY]`` serves on this machine only (127.0.0.1), with no login.
``--host 0.0.0.0`` (or any address other than loopback) shares it on the network: then
the dashboard asks for a name and password from the users file (:mod:`toolkit.auth`),
and the server refuses to start until that file has at least one user.

The dashboard reads the store only; starting it changes nothing in the study.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import subprocess
import sys
from pathlib import Path

from toolkit import auth
from toolkit.config import StudyConfig
from toolkit.errors import ConfigError

__all__ = ["dashboard_app_path", "dashboard_command", "dashboard_env", "is_loopback", "serve_dashboard"]

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501


def is_loopback(host: str) -> bool:
    """True if ``host`` is only reachable from this machine (``localhost``, 127.0.0.0/8, ``::1``).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: may resolve beyond this machine


def dashboard_app_path() -> Path:
    """``dashboards/app.py`` of the repository the toolkit is installed from (editable install).

    Examples
    --------
    >>> dashboard_app_path().name  # doctest: +SKIP
    'app.py'
    """
    app = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
    if not app.is_file():
        raise ConfigError(
            f"{app}: the dashboard's entry page is missing. The dashboard runs from a checkout of the repository "
            "installed with `pip install -e .` (what `make run` does); reinstall from the repository root."
        )
    return app


def _check_port(port: int) -> int:
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"dashboard port {port!r}: expected a number from 1 to 65535, such as 8501.")
    return port


def dashboard_command(
    study_root: str | Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> list[str]:
    """The command line that serves the dashboard on ``study_root``.

    Examples
    --------
    >>> dashboard_command("interviews", port=8502)[:4]  # doctest: +SKIP
    ['/.../.venv/bin/python', '-m', 'streamlit', 'run']
    """
    if not host or not host.strip():
        raise ConfigError("dashboard host is empty: use 127.0.0.1 (this machine) or 0.0.0.0 (the network).")
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(dashboard_app_path()),
        "--server.address",
        host.strip(),
        "--server.port",
        str(_check_port(port)),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",  # no "Deploy" button, no developer menu
        "--",
        "--study",
        str(Path(study_root).resolve()),
    ]


def dashboard_env(host: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the dashboard process serving on ``host``.

    Beyond loopback, ``TOOLKIT_AUTH=required`` is set (overriding ``off``) and the server
    refuses to start with no users; ``TOOLKIT_USERS`` is pinned to the file checked here.

    Examples
    --------
    >>> dashboard_env("127.0.0.1", {}).get("TOOLKIT_AUTH") is None
    True
    """
    env = dict(os.environ if base is None else base)
    if is_loopback(host):
        return env
    path = _users_path_in(env)
    if not auth.list_users(path=path):
        raise ConfigError(
            f"refusing to share the dashboard on {host}: nobody can log in, {path} has no users. "
            "Add one first with `toolkit users add NAME --role researcher` (reviewers: `--role reviewer`), "
            "or serve on this machine only with `--host 127.0.0.1`."
        )
    env["TOOLKIT_AUTH"] = "required"
    env[auth.USERS_ENV] = str(path)
    return env


def _users_path_in(env: dict[str, str]) -> Path:
    value = env.get(auth.USERS_ENV, "").strip()
    return Path(value).expanduser() if value else auth.users_path()


def serve_dashboard(config: StudyConfig, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Serve the dashboard on ``config``'s study until interrupted; returns Streamlit's exit code.

    Examples
    --------
    >>> serve_dashboard(load_config("interviews"))  # doctest: +SKIP
    """
    command = dashboard_command(config.root, host=host, port=port)
    env = dashboard_env(host)
    shared = "on the network, login required" if env.get("TOOLKIT_AUTH") == "required" else "on this machine only"
    log.info("serving the dashboard for %s at http://%s:%s (%s)", config.root, host, port, shared)
    if env.get("TOOLKIT_AUTH") == "required" and not is_loopback(host):
        log.warning(
            "the dashboard is served over plain HTTP: names, passwords and pseudonymised text cross the network "
            "unencrypted. Put it behind an HTTPS reverse proxy, or use a trusted network only."
        )
    return subprocess.run(command, env=env, check=False).returncode
