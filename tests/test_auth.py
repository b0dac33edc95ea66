"""Dashboard users: password hashing, the users file, its permissions and its error messages."""

from __future__ import annotations

import os
import stat

import pytest

from toolkit import auth
from toolkit.auth import User
from toolkit.errors import ConfigError

PASSWORD = "a long passphrase"


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    """A low scrypt cost keeps the tests fast; hashes record their own cost, so checks still work."""
    monkeypatch.setattr(auth, "SCRYPT_N", 2**8)
    monkeypatch.setattr(auth, "SCRYPT_P", 1)
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)


@pytest.fixture
def users(tmp_path):
    return tmp_path / "cfg" / "users.toml"


def test_hash_is_self_describing_salted_and_checks_round_trip(monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**15)  # the real cost, once
    monkeypatch.setattr(auth, "SCRYPT_P", 3)
    first, second = auth.hash_password(PASSWORD), auth.hash_password(PASSWORD)
    kind, n, r, p, salt, digest = first.split("$")
    assert (kind, n, r, p) == ("scrypt", "32768", "8", "3")
    assert first != second  # a random salt per hash
    assert PASSWORD not in first
    assert auth.check_password(PASSWORD, first) and auth.check_password(PASSWORD, second)
    assert not auth.check_password(PASSWORD + "x", first)
    assert not auth.check_password(PASSWORD, "scrypt$garbage")
    assert not auth.check_password(PASSWORD, "")


def test_add_verify_list_remove(users):
    auth.add_user("asha", "researcher", PASSWORD, path=users)
    auth.add_user("ben", "reviewer", "another long one", path=users)
    assert auth.verify("asha", PASSWORD, path=users) == User("asha", "researcher")
    assert auth.verify("ben", "another long one", path=users) == User("ben", "reviewer")
    listed = auth.list_users(path=users)
    assert listed == [{"name": "asha", "role": "researcher"}, {"name": "ben", "role": "reviewer"}]
    auth.remove_user("asha", path=users)
    assert auth.list_users(path=users) == [{"name": "ben", "role": "reviewer"}]
    assert auth.verify("asha", PASSWORD, path=users) is None


def test_wrong_password_and_unknown_user_are_refused_alike(users):
    auth.add_user("asha", "researcher", PASSWORD, path=users)
    assert auth.verify("asha", "not the password", path=users) is None
    assert auth.verify("nobody", PASSWORD, path=users) is None
    assert auth.verify("ASHA", PASSWORD, path=users) is None  # names are exact
    assert auth.verify("asha", "", path=users) is None


def test_adding_again_changes_role_and_password(users):
    auth.add_user("asha", "researcher", PASSWORD, path=users)
    auth.add_user("asha", "reviewer", "a brand new passphrase", path=users)
    assert auth.verify("asha", PASSWORD, path=users) is None
    assert auth.verify("asha", "a brand new passphrase", path=users) == User("asha", "reviewer")
    assert len(auth.list_users(path=users)) == 1


def test_list_never_returns_hashes(users):
    auth.add_user("asha", "researcher", PASSWORD, path=users)
    (entry,) = auth.list_users(path=users)
    assert set(entry) == {"name", "role"}
    assert "scrypt$" not in repr(auth.list_users(path=users))


def test_file_is_private_and_holds_no_password(users):
    auth.add_user("asha", "researcher", PASSWORD, path=users)
    assert stat.S_IMODE(os.stat(users).st_mode) == 0o600
    text = users.read_text(encoding="utf-8")
    assert PASSWORD not in text and "scrypt$" in text
    assert [p.name for p in users.parent.iterdir()] == ["users.toml"]  # no temporary file left behind


def test_write_is_atomic_when_it_fails(users, monkeypatch):
    auth.add_user("asha", "researcher", PASSWORD, path=users)
    before = users.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(auth.os, "replace", broken_replace)
    with pytest.raises(ConfigError, match="cannot write the dashboard users file .No space"):
        auth.add_user("ben", "reviewer", "another long one", path=users)
    assert users.read_bytes() == before
    assert [p.name for p in users.parent.iterdir()] == ["users.toml"]


def test_users_path_default_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv("TOOLKIT_USERS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert auth.users_path() == tmp_path / ".config" / "toolkit" / "users.toml"
    monkeypatch.setenv("TOOLKIT_USERS", str(tmp_path / "elsewhere.toml"))
    assert auth.users_path() == tmp_path / "elsewhere.toml"
    auth.add_user("asha", "researcher", PASSWORD)
    assert auth.verify("asha", PASSWORD) == User("asha", "researcher")
    assert (tmp_path / "elsewhere.toml").exists()


def test_missing_file_means_no_users(users):
    assert auth.list_users(path=users) == []
    assert auth.verify("asha", PASSWORD, path=users) is None


@pytest.mark.parametrize(
    "password, match",
    [
        ("short", "at least 12 characters"),
        ("password12", "at least 12 characters"),  # accepted before: the example
        ("123456789012", "only digits"),
        (" padded password ", "space"),
        ("abcabcabcabc", "repeated"),
        ("password1234", "too common"),  # a common password with digits added
        ("P@ssw0rd2024!", "too common"),  # ... with look-alike letters and symbols
        ("Liverpool1892", "too common"),
        ("qwertyuiop123", "too common"),
        ("1q2w3e4r5t6y", "too common"),  # common as it is, 12 characters long
        ("iloveyou2024", "too common"),
    ],
)
def test_weak_passwords_refused(users, password, match):
    with pytest.raises(ConfigError, match=match):
        auth.add_user("asha", "researcher", password, path=users)
    assert not users.exists()


@pytest.mark.parametrize("password", ["kettle orbit violet harbour", "correct horse battery", "Marmalade-Tuesday-77"])
def test_unusual_passphrases_are_accepted(users, password):
    assert auth.password_problem(password, name="asha") is None
    auth.add_user("asha", "researcher", password, path=users)
    assert auth.verify("asha", password, path=users) == User("asha", "researcher")


def test_common_password_list_is_bundled_data():
    common = auth.common_passwords()
    assert len(common) >= 29_000
    assert {"password", "123456", "qwerty", "iloveyou"} <= common
    assert not any(word.startswith("#") for word in common)  # the licence header is not a password


def test_password_containing_the_name_refused(users):
    with pytest.raises(ConfigError, match="user name"):
        auth.add_user("asha.mukherjee", "researcher", "Asha.Mukherjee", path=users)
    with pytest.raises(ConfigError, match="user name"):
        auth.add_user("asha", "researcher", "my name is asha, hello", path=users)


def test_fingerprint_changes_with_the_password_and_ends_with_the_user(users):
    auth.add_user("asha", "researcher", PASSWORD, path=users)
    role, first = auth.user_fingerprint("asha", path=users)
    assert role == "researcher" and len(first) == 16
    assert PASSWORD not in first and first not in users.read_text()
    auth.add_user("asha", "reviewer", "a brand new passphrase", path=users)
    role, second = auth.user_fingerprint("asha", path=users)
    assert role == "reviewer" and second != first
    auth.remove_user("asha", path=users)
    assert auth.user_fingerprint("asha", path=users) is None


def test_bad_role_and_bad_name_refused(users):
    with pytest.raises(ConfigError, match="expected one of researcher, reviewer"):
        auth.add_user("asha", "admin", PASSWORD, path=users)
    with pytest.raises(ConfigError, match="user name"):
        auth.add_user("", "researcher", PASSWORD, path=users)
    with pytest.raises(ConfigError, match="user name"):
        auth.add_user('a"b\n[[user]]', "researcher", PASSWORD, path=users)


def test_remove_unknown_user_lists_known_ones(users):
    auth.add_user("asha", "researcher", PASSWORD, path=users)
    with pytest.raises(ConfigError, match=r"no user 'ben'. Users: asha"):
        auth.remove_user("ben", path=users)


@pytest.mark.parametrize(
    "text, match",
    [
        ("[[user]\nname = ", "not a readable TOML users file"),
        ('[[user]]\nname = "asha"\nrole = "admin"\npassword = "x"\n', "role 'admin'"),
        (
            '[[user]]\nname = "asha"\nrole = "reviewer"\npassword = "plain text"\n',
            "toolkit users add asha --role reviewer",
        ),
        ('[[user]]\nrole = "reviewer"\n', "no name"),
        ('[users]\nasha = 1\n', r"expected only \[\[user\]\] tables"),
    ],
)
def test_bad_file_names_the_file_and_the_fix(users, text, match):
    users.parent.mkdir(parents=True)
    users.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as info:
        auth.list_users(path=users)
    assert str(users) in str(info.value)
    assert "toolkit users add" in str(info.value)


def test_duplicate_user_in_file_is_an_error(users):
    auth.add_user("asha", "researcher", PASSWORD, path=users)
    users.write_text(users.read_text() * 2, encoding="utf-8")
    with pytest.raises(ConfigError, match="'asha' appears twice"):
        auth.verify("asha", PASSWORD, path=users)


def test_unwritable_folder_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot write the dashboard users file"):
        auth.add_user("asha", "researcher", PASSWORD, path=blocker / "users.toml")


def test_passwords_are_never_logged(users, caplog):
    caplog.set_level("DEBUG", logger="toolkit.auth")
    auth.add_user("asha", "researcher", PASSWORD, path=users)
    auth.verify("asha", "the wrong secret", path=users)
    auth.verify("the wrong secret", PASSWORD, path=users)  # a password typed into the name box
    assert caplog.records
    assert PASSWORD not in caplog.text and "the wrong secret" not in caplog.text


@pytest.mark.parametrize("password", ["password12", "Password2024!", "qwertyuiop123"])
def test_toolkit_users_add_refuses_short_and_common_passwords(users, monkeypatch, capsys, password):
    import io

    from toolkit import cli

    monkeypatch.setenv("TOOLKIT_USERS", str(users))
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    code = cli.main(["users", "add", "asha", "--role", "researcher", "--password-stdin"])
    assert code != 0
    assert "password for asha:" in capsys.readouterr().err
    assert not users.exists()
    monkeypatch.setattr("sys.stdin", io.StringIO("kettle orbit violet harbour\n"))
    assert cli.main(["users", "add", "asha", "--role", "researcher", "--password-stdin"]) == 0
    assert auth.verify("asha", "kettle orbit violet harbour", path=users) == User("asha", "researcher")
