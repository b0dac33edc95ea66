"""Signing in to a shared dashboard: throttling per name and address, sessions, settings, single sign-on roles.

Every clock here is injected: no test waits or asserts a duration.
"""

from __future__ import annotations

import os
import stat

import pytest

from toolkit import signin
from toolkit.auth import User
from toolkit.errors import ConfigError
from toolkit.signin import Attempt, Limits, Refusal, SessionSigner, SignInThrottle, SSOSettings


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- throttling ----------------------------------------------------------------------------------


def test_parallel_sessions_on_one_name_share_one_count():
    """The issue's attack: six browser sessions in parallel each got their own guesses. Now the name counts."""
    clock = Clock()
    throttle = SignInThrottle(Limits(), clock=clock)
    results = [throttle.begin("asha", f"192.0.2.{session}") for session in range(6) for _ in range(5)]
    let_through = [r for r in results if isinstance(r, Attempt)]
    assert len(let_through) == Limits().account_free + 1  # 5 free, the 6th starts the waits
    refused = [r for r in results if isinstance(r, Refusal)]
    assert refused and all(r.which == "name" and not r.locked for r in refused)
    assert refused[0].message == "Too many failed sign-ins for this name: wait 2 seconds, then try again."


def test_names_are_counted_however_they_are_typed():
    throttle = SignInThrottle(Limits(account_free=1, account_lockout=3), clock=Clock())
    assert isinstance(throttle.begin("Asha", "192.0.2.1"), Attempt)
    assert isinstance(throttle.begin("  asha ", "192.0.2.2"), Attempt)
    assert isinstance(throttle.begin("ASHA", "192.0.2.3"), Refusal)


def guesses_in(throttle: SignInThrottle, clock: Clock, seconds: float, name="asha", address="198.51.100.7") -> int:
    """How many passwords an attacker gets checked in ``seconds``, trying again the moment they may."""
    end, guesses = clock.now + seconds, 0
    while clock.now < end:
        result = throttle.begin(name, address)
        if isinstance(result, Attempt):
            guesses += 1
        else:
            clock.now += result.retry_after
    return guesses


def test_lockout_bounds_guesses_per_day_where_the_old_30_second_cap_allowed_thousands():
    clock = Clock()
    throttle = SignInThrottle(Limits(), clock=clock)
    per_day = guesses_in(throttle, clock, 24 * 3600)
    assert per_day <= 20  # the old delay, capped at 30 s, allowed 24 * 3600 / 30 = 2,880 a day
    assert per_day >= Limits().account_lockout  # and the free attempts and the waits were all used


def test_lockout_is_clear_and_refuses_even_the_right_password_until_it_ends():
    clock = Clock()
    throttle = SignInThrottle(Limits(account_free=2, account_lockout=4, lockout_minutes=15), clock=clock)
    for _ in range(4):
        result = throttle.begin("asha", "192.0.2.1")
        if isinstance(result, Refusal):
            clock.now += result.retry_after
            result = throttle.begin("asha", "192.0.2.1")
        assert isinstance(result, Attempt)
    refusal = throttle.begin("asha", "203.0.113.5")  # another address: the name is locked
    assert isinstance(refusal, Refusal) and refusal.locked and refusal.which == "name"
    assert refusal.retry_after == pytest.approx(15 * 60)
    assert refusal.message.startswith("Too many failed sign-ins for this name: signing in is locked for 15 minutes")
    assert "tell whoever runs the dashboard" in refusal.message
    clock.now += 14 * 60
    assert isinstance(throttle.begin("asha", "192.0.2.1"), Refusal)
    clock.now += 61
    assert isinstance(throttle.begin("asha", "192.0.2.1"), Attempt)  # over; this failure doubles the next lockout
    refusal = throttle.begin("asha", "192.0.2.1")
    assert refusal.locked and refusal.retry_after == pytest.approx(30 * 60)


def test_lockout_doubles_up_to_a_day():
    clock = Clock()
    limits = Limits(account_free=0, account_lockout=1, lockout_minutes=15)
    throttle = SignInThrottle(limits, clock=clock)
    waits = []
    for _ in range(12):
        result = throttle.begin("asha", "192.0.2.1")
        if isinstance(result, Refusal):
            waits.append(result.retry_after)
            clock.now += result.retry_after
            throttle.begin("asha", "192.0.2.1")
    assert waits[:3] == [15 * 60, 30 * 60, 60 * 60]
    assert max(waits) == 24 * 3600


def test_one_address_trying_many_names_is_limited_too():
    throttle = SignInThrottle(Limits(address_free=3, address_lockout=5), clock=Clock())
    results = [throttle.begin(f"user{n}", "198.51.100.7") for n in range(10)]
    assert sum(isinstance(r, Attempt) for r in results) == 4
    assert results[-1].which == "address" and "from your network address" in results[-1].message
    assert isinstance(throttle.begin("user99", "198.51.100.8"), Attempt)  # another address is not affected


def test_an_ipv6_attacker_cannot_escape_by_changing_address_within_a_64():
    throttle = SignInThrottle(Limits(address_free=2, address_lockout=4), clock=Clock())
    results = [throttle.begin(f"user{n}", f"2001:db8:1:2::{n:x}") for n in range(6)]
    assert sum(isinstance(r, Attempt) for r in results) == 3


def test_success_clears_the_name_and_undoes_its_attempt_at_the_address():
    throttle = SignInThrottle(Limits(account_free=2, address_free=2, address_lockout=10), clock=Clock())
    for _ in range(2):
        throttle.begin("asha", "192.0.2.1")
    attempt = throttle.begin("asha", "192.0.2.1")  # third: counted before the check
    throttle.succeeded(attempt)
    for _ in range(2):
        assert isinstance(throttle.begin("asha", "192.0.2.9"), Attempt)  # the name starts again at zero
    assert isinstance(throttle.begin("ben", "192.0.2.1"), Attempt)  # the address keeps its two failures before:
    assert isinstance(throttle.begin("cat", "192.0.2.1"), Refusal)  # this is its third, so now it waits


def test_old_failures_are_forgotten_after_a_day():
    clock = Clock()
    throttle = SignInThrottle(Limits(account_free=1, account_lockout=2), clock=clock)
    throttle.begin("asha", "192.0.2.1")
    throttle.begin("asha", "192.0.2.1")
    assert isinstance(throttle.begin("asha", "192.0.2.1"), Refusal)
    clock.now += 25 * 3600
    assert isinstance(throttle.begin("asha", "192.0.2.1"), Attempt)


# --- sessions ------------------------------------------------------------------------------------


def test_session_token_round_trip_tamper_expiry_and_secret():
    clock = Clock()
    signer = SessionSigner(b"s" * 32, max_age_seconds=3600, clock=clock)
    token, session = signer.issue("asha", "f" * 16)
    assert signer.read(token) == session and session.name == "asha"
    assert "asha" not in token or "." in token  # signed, not encrypted: names are not secret, the signature is
    assert signer.read(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]) is None
    assert signer.read("") is None and signer.read(None) is None and signer.read("x" * 5000) is None
    assert SessionSigner(b"t" * 32, max_age_seconds=3600, clock=clock).read(token) is None
    clock.now += 3599
    assert signer.read(token) is not None
    clock.now += 2
    assert signer.read(token) is None  # expired
    _, other = signer.issue("asha", "f" * 16)
    assert other.sid != session.sid


def test_revoked_sessions_survive_a_restart_and_expire(tmp_path):
    clock = Clock()
    signer = SessionSigner(b"s" * 32, max_age_seconds=60, clock=clock)
    _, session = signer.issue("asha", "f")
    revoked = signin.RevokedSessions(tmp_path, clock=clock)
    revoked.revoke(session)
    assert session.sid in revoked
    assert stat.S_IMODE(os.stat(revoked.path).st_mode) == 0o600
    assert session.sid in signin.RevokedSessions(tmp_path, clock=clock)  # a restarted server still refuses it
    clock.now += 120
    _, later = signer.issue("ben", "g")
    revoked.revoke(later)
    assert session.sid not in signin.RevokedSessions(tmp_path, clock=clock)  # expired ids are pruned


def test_server_secret_is_made_private_and_refused_when_others_can_read_it(tmp_path):
    secret = signin.server_secret(tmp_path)
    assert len(secret) == 32 and signin.server_secret(tmp_path) == secret
    path = tmp_path / "dashboard.secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others. Run `chmod 600"):
        signin.server_secret(tmp_path)
    assert signin.derive_key(secret, "a") != signin.derive_key(secret, "b")


# --- settings ------------------------------------------------------------------------------------


SSO_TOML = """url = "https://dash.example.org"
[sso]
label = "NHS.net"
server_metadata_url = "https://login.example.org/tenant/v2.0/.well-known/openid-configuration"
client_id = "app-id"
client_secret_env = "TEST_SSO_SECRET"
require = { tid = "tenant" }
[sso.users]
"Asha@NHS.net" = "researcher"
[sso.groups]
"G-Reviewers" = "reviewer"
"""


def write(path, text, mode=0o600):
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_absent_settings_mean_passwords_only(tmp_path):
    settings = signin.load_sign_in(tmp_path / "sign-in.toml")
    assert settings.sso is None and settings.url is None and settings.limits == Limits()
    assert settings.streamlit_secrets("c") == {}


def test_sso_settings_and_the_secrets_st_login_needs(tmp_path):
    path = write(tmp_path / "sign-in.toml", SSO_TOML + "session_hours = 8\n[limits]\naccount_free = 3\n"
                 .replace("session_hours = 8\n", ""))
    settings = signin.load_sign_in(path, environ={"TEST_SSO_SECRET": "from-the-environment"})
    assert settings.url == "https://dash.example.org" and settings.limits.account_free == 3
    assert settings.sso.users == {"asha@nhs.net": "researcher"} and settings.sso.groups == {"G-Reviewers": "reviewer"}
    assert "from-the-environment" not in repr(settings)
    auth_secrets = settings.streamlit_secrets("cookie")["auth"]
    assert auth_secrets["redirect_uri"] == "https://dash.example.org/oauth2callback"
    assert auth_secrets["cookie_secret"] == "cookie"
    assert auth_secrets["sso"]["client_secret"] == "from-the-environment"
    assert auth_secrets["sso"]["server_metadata_url"].endswith("/.well-known/openid-configuration")


@pytest.mark.parametrize(
    "text, match",
    [
        ('url = "dash.example.org"\n', "expected the address people open"),
        ('url = "https://dash.example.org/app"\n', "no path"),
        ('urll = "https://x.org"\n', "unknown setting"),
        ("session_hours = 0\n", "session_hours"),
        ("[limits]\nfree = 3\n", r"\[limits\] may set"),
        (SSO_TOML.replace('url = "https://dash.example.org"\n', ""), "single sign-on needs url"),
        (SSO_TOML.replace('"G-Reviewers" = "reviewer"', '"G" = "admin"'), "one of researcher, reviewer"),
        (SSO_TOML.replace('client_secret_env = "TEST_SSO_SECRET"', 'client_secret_env = "UNSET_VAR"'),
         "UNSET_VAR.*not set"),
        ("[[user]]\n", "unknown setting"),
    ],
)
def test_bad_settings_name_the_file_and_the_problem(tmp_path, text, match):
    path = write(tmp_path / "sign-in.toml", text)
    with pytest.raises(ConfigError, match=match) as info:
        signin.load_sign_in(path, environ={"TEST_SSO_SECRET": "s"})
    assert str(path) in str(info.value)


def test_client_secret_in_a_file_others_can_read_is_refused(tmp_path):
    text = SSO_TOML.replace('client_secret_env = "TEST_SSO_SECRET"', 'client_secret = "in-the-file"')
    with pytest.raises(ConfigError, match="chmod 600"):
        signin.load_sign_in(write(tmp_path / "sign-in.toml", text, mode=0o644), environ={})
    assert signin.load_sign_in(write(tmp_path / "sign-in.toml", text), environ={}).sso.client_secret == "in-the-file"


# --- single sign-on roles ------------------------------------------------------------------------


def sso(**kwargs) -> SSOSettings:
    base = {"label": "Entra", "server_metadata_url": "https://id.example/.well-known/openid-configuration",
            "client_id": "app", "client_secret": "s", "users": {"asha@nhs.net": "reviewer"},
            "groups": {"G-Researchers": "researcher", "G-Reviewers": "reviewer"}}
    return SSOSettings(**{**base, **kwargs})


def test_sso_maps_people_and_groups_to_roles():
    assert signin.sso_user({"email": "ASHA@nhs.net"}, sso()) == (User("asha@nhs.net", "reviewer"), "asha@nhs.net")
    user, _ = signin.sso_user({"email": "ben@nhs.net", "groups": ["G-Reviewers", "G-Researchers"]}, sso())
    assert user == User("ben@nhs.net", "researcher")  # researcher wins
    user, _ = signin.sso_user({"email": "cat@nhs.net", "groups": ["G-Reviewers", "other"]}, sso())
    assert user == User("cat@nhs.net", "reviewer")


def test_sso_without_a_mapping_or_with_a_wrong_tenant_gets_no_role():
    assert signin.sso_user({"email": "stranger@example.com"}, sso()) == (None, "stranger@example.com")
    assert signin.sso_user({"name": "no email"}, sso()) == (None, "")
    strict = sso(require={"tid": "our-tenant"})
    assert signin.sso_user({"email": "asha@nhs.net", "tid": "another-tenant"}, strict)[0] is None
    assert signin.sso_user({"email": "asha@nhs.net", "tid": "our-tenant"}, strict)[0] == User("asha@nhs.net", "reviewer")
    by_upn = sso(match="preferred_username")
    assert signin.sso_user({"email": "asha@nhs.net", "preferred_username": "x@nhs.net"}, by_upn)[0] is None
