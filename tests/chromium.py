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


CHECK = """<script>
window.addEventListener("load", function () {
  var images = Array.from(document.images);
  var report = {
    resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
    images: images.length,
    decoded: images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
    svgs: document.querySelectorAll("svg").length
  };
  var out = document.createElement("pre");
  out.id = "tracker-check";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
</script>"""


def inspect_page(page: Path, work: Path) -> dict[str, object]:
    """Load ``page`` (a copy with a probe appended) and report what the browser saw:
    every resource the page fetched, its images and how many decoded, its inline SVGs,
    and every console message (errors included)."""
    import json
    import re

    probe = work / f"probe-{page.name}"
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"), "utf-8"
    )
    done = subprocess.run(
        [
            chromium(),
            *FLAGS,
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="tracker-check">(.*?)</pre>', done.stdout, re.S)
    assert found is not None, "the page never finished loading"
    report: dict[str, object] = json.loads(
        found.group(1).replace("&quot;", '"').replace("&amp;", "&")
    )
    report["console"] = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return report


def print_pdf(page: Path, out: Path) -> int:
    """Print ``page`` to PDF as a browser does; returns its page count."""
    done = subprocess.run(
        [
            chromium(),
            *FLAGS,
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and out.exists(), done.stderr[-2000:]
    import re

    return len(re.findall(rb"/Type\s*/Page[^s]", out.read_bytes()))
