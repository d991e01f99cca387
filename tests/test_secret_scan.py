"""The suite's secret scan (tests/secret_scan.py) finds what it is meant to find."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.secret_scan import SecretScan

pytest_plugins = ["pytester"]


def test_a_secret_in_a_file_or_in_output_is_found_and_a_secret_file_is_not(
    tmp_path: Path,
) -> None:
    """The files made here are removed at the end: the session's own scan reads tmp_path."""
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sync.log").write_text(
        "GET /deals Authorization: Bearer sandbox-hs-token\n"
    )
    (tmp_path / "report.json").write_text('{"token": "sandbox-sa-0123456789ab"}')  # rotated
    (tmp_path / "hs.token").write_text("sandbox-hs-token\n")  # a secret file, as configs use
    (tmp_path / "clean.toml").write_text('access_token = { env = "HS_TOKEN" }\n')
    scan = SecretScan()
    try:
        assert scan.folder(tmp_path) == 4
    finally:
        for path in (tmp_path / "out" / "sync.log", tmp_path / "report.json"):
            path.unlink()
    scan.text("test_x (Captured stderr call)", "login with s3cret-smtp-pass-9f2c failed")
    scan.text("test_y (Captured log call)", "retrying after 429")
    assert sorted(hit.split(": holds")[0] for hit in scan.hits) == [
        str(tmp_path / "out" / "sync.log"),
        str(tmp_path / "report.json"),
        "test_x (Captured stderr call)",
    ]
    assert not any("sandbox-hs-token" in hit or "9f2c" in hit for hit in scan.hits)
    assert "test_x (Captured stderr call): holds a secret: login with *** failed" in scan.hits
    assert any(hit.endswith("Authorization: Bearer ***") for hit in scan.hits)


def test_a_test_that_prints_a_secret_fails_the_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a process of its own: its scan and its findings stay out of this session's."""
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[1]))
    pytester.makeconftest("from tests.conftest import *  # noqa: F403\n")
    pytester.makepyfile(
        test_leak="""
        from tests.mail.smtp_server import PASSWORD

        def test_prints_the_smtp_password():
            print("connecting with", PASSWORD)

        def test_clean():
            print("nothing to see")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["secret scan: *test_prints_the_smtp_password* holds a secret*"])
    hits = [line for line in result.outlines if "holds a secret" in line]
    assert len(hits) == 1 and "9f2c" not in hits[0]  # named, never printed whole
