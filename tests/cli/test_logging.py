"""Where the CLI's log lines go once a command has returned: a command run in-process
(the demo runs many, tests use a runner) must not leave logging writing to the stderr it
had, which its runner has closed since."""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

from tracker.cli import app


def test_records_after_an_in_process_command_go_to_the_stderr_of_the_moment(
    capfd: pytest.CaptureFixture[str],
) -> None:
    result = CliRunner().invoke(app, ["config", "reference"])
    assert result.exit_code == 0, result.output
    logging.getLogger("connectors.retry").warning("HubSpot deals list failed; retry 1 of 5")
    err = capfd.readouterr().err
    assert err == "WARNING connectors.retry: HubSpot deals list failed; retry 1 of 5\n"
