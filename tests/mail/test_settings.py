"""``[email]`` keys: defaults, durations and one-line errors naming the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tracker.durations import describe_duration, parse_duration
from tracker.errors import ConfigError
from tracker.settings import settings_from_dict


def _email(table: dict[str, object]) -> object:
    return settings_from_dict({"email": table}, base_dir=Path("/tmp"), source_models={}).email


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("36h", timedelta(hours=36)),
        ("90m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        (" 6H ", timedelta(hours=6)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "36", "h", "3x", "1.5h", "-2h", "0h"])
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_durations_read_back_in_their_largest_whole_unit() -> None:
    assert [describe_duration(parse_duration(t)) for t in ("36h", "2d", "90m", "1h30m", "61s")] == [
        "36h",
        "2d",
        "90m",
        "90m",
        "61s",
    ]


def test_defaults_and_ports() -> None:
    email = _email({"host": "smtp.example.com", "from": "tracker@example.com"})
    assert email.configured and email.security == "starttls" and email.smtp_port == 587
    assert email.data_age_limit == timedelta(hours=36) and email.withhold_on_stale is False
    assert _email({"security": "ssl"}).smtp_port == 465
    assert _email({"security": "none"}).smtp_port == 25
    assert _email({"security": "ssl", "port": 2465}).smtp_port == 2465
    assert not _email({}).configured


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"hots": "x"},
            "email.hots: unknown key (a typo?); valid keys here: ca_file, default_to, from,",
        ),
        ({"from": "nobody"}, "email.from: 'nobody' is not an email address"),
        ({"default_to": ["a@b.c", "x"]}, "email.default_to: 'x' is not an email address"),
        ({"reply_to": "a@b.c\r\nBcc: x@y.z"}, "email.reply_to: "),
        ({"host": "smtp.example.com\r\nX: y"}, "email.host: "),
        ({"password": "hunter2", "username": "u"}, "email.password: secrets are never literal"),
        ({"username": "u"}, "email: give both username and password, or neither"),
        ({"security": "tls"}, "email.security: "),
        ({"max_data_age": "soon"}, "email.max_data_age: 'soon' is not a duration"),
        ({"timeout": 0}, "email.timeout: "),
    ],
)
def test_bad_email_keys_are_one_line_errors(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _email(table)
    text = str(caught.value)
    assert text.startswith(message) and "\n" not in text
    assert "hunter2" not in text
