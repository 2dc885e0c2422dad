"""The typed environment readers, and .env.example as the complete list of variables."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings.env import env_bool, env_choice, env_int, env_list, env_str, env_time_zone

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ENV_EXAMPLE = BASE_DIR / ".env.example"
READ_PATTERN = re.compile(
    r"""(?:env_str|env_bool|env_int|env_float|env_list|env_choice|env_time_zone|os\.environ\.get|os\.environ\.setdefault|os\.getenv)"""
    r"""\(\s*["']([A-Z][A-Z0-9_]*)["']|os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""
)
# Variables read by the platform or by tools rather than by our code, still documented in .env.example.
READ_OUTSIDE_OUR_CODE = {"FORWARDED_ALLOW_IPS", "DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD"}


def _variables_read_by_the_code() -> set[str]:
    names = set()
    paths = [BASE_DIR / "manage.py"]
    for top in ("config", "backend", "apps"):
        paths += [path for path in (BASE_DIR / top).rglob("*.py") if "tests" not in path.parts]
    for path in paths:
        for match in READ_PATTERN.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return names


def _example_lines() -> list[str]:
    return ENV_EXAMPLE.read_text().splitlines()


def _documented_variables() -> dict[str, int]:
    """Variable → line index, for active (``NAME=``) and commented-out (``# NAME=``) assignments."""
    found = {}
    for index, line in enumerate(_example_lines()):
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match:
            found.setdefault(match.group(1), index)
    return found


def test_every_variable_the_code_reads_is_in_env_example():
    read = _variables_read_by_the_code()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS", "COVERIS_PAGE_SIZE"} <= read  # the scan works
    missing = read - set(_documented_variables())
    assert not missing, f"add these to .env.example with a comment: {sorted(missing)}"


def test_env_example_documents_each_variable_with_a_comment_and_nothing_stale():
    lines = _example_lines()
    documented = _documented_variables()
    for name, index in documented.items():
        assert index > 0
        assert lines[index - 1].startswith("#"), f"{name} in .env.example has no comment line above it"
    stale = set(documented) - _variables_read_by_the_code() - READ_OUTSIDE_OUR_CODE
    assert not stale, f".env.example lists variables nothing reads: {sorted(stale)}"


def test_env_bool_parses_words_and_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("COVERIS_FLAG", " Yes ")
    assert env_bool("COVERIS_FLAG") is True
    monkeypatch.setenv("COVERIS_FLAG", "off")
    assert env_bool("COVERIS_FLAG", True) is False
    monkeypatch.setenv("COVERIS_FLAG", "")
    assert env_bool("COVERIS_FLAG", True) is True
    monkeypatch.setenv("COVERIS_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="COVERIS_FLAG"):
        env_bool("COVERIS_FLAG")


def test_env_int_refuses_non_integers_naming_the_variable(monkeypatch):
    monkeypatch.setenv("COVERIS_NUMBER", " 42 ")
    assert env_int("COVERIS_NUMBER", 1) == 42
    monkeypatch.setenv("COVERIS_NUMBER", "4x")
    with pytest.raises(ImproperlyConfigured, match="COVERIS_NUMBER"):
        env_int("COVERIS_NUMBER", 1)


def test_env_list_and_str_strip_and_fall_back(monkeypatch):
    monkeypatch.setenv("COVERIS_LIST", " a.example , ,b.example ")
    assert env_list("COVERIS_LIST") == ["a.example", "b.example"]
    monkeypatch.delenv("COVERIS_LIST")
    default = ["x"]
    assert env_list("COVERIS_LIST", default) == ["x"]
    assert env_list("COVERIS_LIST", default) is not default
    monkeypatch.setenv("COVERIS_TEXT", "  value ")
    assert env_str("COVERIS_TEXT", "default") == "value"
    monkeypatch.setenv("COVERIS_TEXT", "  ")  # empty means unset, as for every reader
    assert env_str("COVERIS_TEXT", "default") == "default"


def test_env_choice_accepts_known_values_only(monkeypatch):
    monkeypatch.delenv("COVERIS_FORMAT", raising=False)
    assert env_choice("COVERIS_FORMAT", "json", ("json", "text")) == "json"
    monkeypatch.setenv("COVERIS_FORMAT", "TEXT")
    assert env_choice("COVERIS_FORMAT", "json", ("json", "text")) == "text"
    monkeypatch.setenv("COVERIS_FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured, match="COVERIS_FORMAT"):
        env_choice("COVERIS_FORMAT", "json", ("json", "text"))


def test_env_time_zone_takes_iana_names_only(monkeypatch):
    monkeypatch.delenv("COVERIS_TIME_ZONE", raising=False)
    assert env_time_zone("COVERIS_TIME_ZONE") == "UTC"
    monkeypatch.setenv("COVERIS_TIME_ZONE", " Pacific/Auckland ")
    assert env_time_zone("COVERIS_TIME_ZONE") == "Pacific/Auckland"
    for bad in ("Mars/Olympus", "../etc/passwd", "+13:00"):
        monkeypatch.setenv("COVERIS_TIME_ZONE", bad)
        with pytest.raises(ImproperlyConfigured, match="COVERIS_TIME_ZONE"):
            env_time_zone("COVERIS_TIME_ZONE")
