"""The digest's HTML as a browser shows it: headless Chromium renders the dry-run message
(its cid: images inlined as data: URIs, as a mail client resolves them) into a screenshot
that is not blank and shows the charts."""

from __future__ import annotations

import base64
import io
from email import message_from_bytes, policy
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from tests.chromium import screenshot
from tests.mail.mail_fixtures import AS_OF, make_mail_config, parts
from tracker.cli import app


def test_mia_digest_renders_with_its_charts(tmp_path: Path) -> None:
    config = make_mail_config(tmp_path, None)
    outbox = tmp_path / "outbox"
    result = CliRunner().invoke(
        app,
        ["--config", str(config), "email", "--as-of", AS_OF, "--dry-run", "--outbox", str(outbox)],
    )
    assert result.exit_code == 0, result.stderr
    message = message_from_bytes(
        (outbox / AS_OF / "mia@example.com.eml").read_bytes(), policy=policy.default
    )
    found = parts(message)
    html = found["html"]
    for cid, data in found["images"].items():
        html = html.replace(
            f"cid:{cid}", "data:image/png;base64," + base64.b64encode(data).decode()
        )
    assert "cid:" not in html
    page = tmp_path / "digest.html"
    page.write_text(html, encoding="utf-8")
    shot = Image.open(io.BytesIO(screenshot(page, tmp_path / "digest.png", 760, 1400))).convert(
        "RGB"
    )
    colours = shot.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50  # text, badges and three charts, not a blank page
    # the chart bars are drawn in the status colours: the on-track blue is on screen
    assert any(rgb == (0x1F, 0x4E, 0x79) for _, rgb in colours)
