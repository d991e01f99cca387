"""Headless Chromium (Debian's ``chromium``) for the HTML tests: the binary, or a skip
outside CI and a failure in CI (``CI=true``) when it is missing, and a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars")


def chromium() -> str:
    """The chromium binary; skips the test when absent (fails instead under CI)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is expected in CI (.ci/run installs it with apt-get)")
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


def screenshot(page: Path, out: Path, width: int = 800, height: int = 1200) -> bytes:
    """A PNG of ``page`` rendered headless at ``width`` × ``height``."""
    done = subprocess.run(
        [
            chromium(),
            *FLAGS,
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and out.exists(), done.stderr[-2000:]
    return out.read_bytes()
