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


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_test_that_prints_a_secret_fails_the_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    """In a process of its own: its scan and its findings stay out of this session's.

    With pytest-xdist (as ``make test`` runs), a leak in a worker's captured output, in a
    command's output and in a file under a worker's temporary folder each fail the session.
    """
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[1]))
    pytester.makeconftest("from tests.conftest import *  # noqa: F403\n")
    pytester.makepyfile(
        test_leak="""
        import click
        from click.testing import CliRunner
        from tests.mail.smtp_server import PASSWORD

        def test_prints_the_smtp_password():
            print("connecting with", PASSWORD)

        def test_clean():
            print("nothing to see")

        def test_a_command_shows_the_password():
            command = click.Command("show", callback=lambda: click.echo("pass " + PASSWORD))
            CliRunner().invoke(command, [])

        def test_writes_the_password(tmp_path):
            (tmp_path / "smtp.log").write_text("AUTH " + PASSWORD)
        """
    )
    try:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *workers)
    finally:  # this session's own scan reads pytester's folder too
        for leaked in pytester.path.rglob("smtp.log"):
            leaked.unlink()
    result.assert_outcomes(passed=4)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    hits = [line for line in result.outlines if "holds a secret" in line]
    where = sorted(line.split("secret scan: ", 1)[1].split(": holds")[0] for line in hits)
    assert [w.rsplit("/", 1)[-1] if "smtp.log" in w else w for w in where] == [
        "smtp.log",
        "test_leak.py::test_a_command_shows_the_password (command output)",
        "test_leak.py::test_prints_the_smtp_password (Captured stdout call)",
    ], hits
    assert not any("9f2c" in hit for hit in hits)  # named, never printed whole
