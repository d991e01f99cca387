"""What arrives at a real SMTP server: one message per recipient with just their goals,
the MIME nesting mail clients need, every image resolved by Content-ID, figures equal to
``tracker report --format json`` (and to hand-computed actuals), hostile CRM strings
escaped and kept out of headers, stale data named, "no data" explained."""

from __future__ import annotations

import io
import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.mail.mail_fixtures import ACTUALS, AS_OF, HOSTILE, RECIPIENTS, make_mail_config, parts
from tests.mail.smtp_server import Server, smtp_server
from tracker.cli import app
from tracker.reports.goals import STATUS_WORDS

runner = CliRunner()


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def delivered(tmp_path: Path) -> tuple[Server, Path, str, str]:
    with smtp_server(tmp_path) as server:
        config = make_mail_config(tmp_path, server)
        code, out, err = invoke(config, "email", "--as-of", AS_OF)
        assert code == 0, err
        yield server, config, out, err


def _blocks(text: str) -> dict[str, dict[str, str]]:
    """The text part's goals: id → {field: value} from the '   field: value' lines."""
    goals: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        head = re.match(r"^\d+\. (.+) \[([A-Z ]+)\]$", line)
        if head:
            current = {"status": head.group(2).lower()}
            goals[head.group(1)] = current
        elif line.startswith("   ") and ":" in line:
            key, _, value = line.strip().partition(":")
            current[key.strip()] = value.strip()
    return goals


def _money(text: str) -> float:
    """A shown figure back as a number: money in whole USD, percent as a fraction."""
    if text.endswith(" %"):
        return round(float(text.removesuffix(" %")) / 100, 4)
    return float(text.removesuffix(" USD").replace(",", ""))


def test_each_recipient_gets_one_message_with_just_their_goals(delivered) -> None:
    server, _, out, _ = delivered
    got = {r.rcpt_to[0]: r for r in server.inbox.received}
    assert sorted(got) == sorted(RECIPIENTS)
    assert all(len(r.rcpt_to) == 1 for r in server.inbox.received)
    assert len(server.inbox.received) == len(RECIPIENTS)
    for address, received in got.items():
        goals = _blocks(parts(received.message)["text"])
        safe = [g.replace("\r\n", " ") for g in RECIPIENTS[address]]
        assert sorted(goals) == sorted(safe), address
    assert out == "digests for 2026-08-15: 5 sent\n"


def test_mime_nesting_headers_and_every_image_resolved(delivered) -> None:
    server, *_ = delivered
    for received in server.inbox.received:
        message = received.message
        assert message.get_content_type() == "multipart/alternative"
        text_part, rich = list(message.iter_parts())
        assert text_part.get_content_type() == "text/plain"
        if rich.get_content_type() == "text/html":  # no chart to show: no related part
            html_part, images = rich, []
        else:
            assert rich.get_content_type() == "multipart/related"
            html_part, *images = list(rich.iter_parts())
            assert images and all(p["Content-Disposition"].startswith("inline") for p in images)
        assert html_part.get_content_type() == "text/html"
        assert message["From"] == "tracker@example.com"
        assert message["To"] == received.rcpt_to[0]
        assert re.fullmatch(r"<[^<>@\s]+@example\.com>", message["Message-ID"])
        assert message["Auto-Submitted"] == "auto-generated"
        html = html_part.get_content()
        cids = re.findall(r'<img src="cid:([^"]+)" width="(\d+)" height="(\d+)"', html)
        attached = {p["Content-ID"].strip("<>"): p.get_content() for p in images}
        assert sorted(c for c, _, _ in cids) == sorted(attached)
        for cid, width, height in cids:
            image = Image.open(io.BytesIO(attached[cid]))
            assert image.size == (int(width), int(height))
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or ()) > 2  # not blank
        assert len(html.encode()) < 100_000
        assert len(cids) == len(_blocks(parts(message)["text"])) - ("company-win-rate" in html)
        assert len(received.data) < 1_000_000


def test_figures_equal_the_report_json_and_the_hand_computed_actuals(delivered) -> None:
    server, config, *_ = delivered
    code, out, _ = invoke(config, "report", "--as-of", AS_OF, "--format", "json")
    assert code == 0
    report = {g["id"].replace("\r\n", " "): g for g in json.loads(out)["goals"]}
    seen = set()
    for received in server.inbox.received:
        for goal_id, shown in _blocks(parts(received.message)["text"]).items():
            expected = report[goal_id]
            seen.add(goal_id)
            assert shown["status"] == STATUS_WORDS[expected["status"]]
            assert shown["deals (n)"].startswith(f"{expected['n']},")
            assert _money(shown["target"]) == expected["target"]
            if expected["actual"] is None:
                assert "actual" not in shown and shown["no data"]
                continue
            assert _money(shown["actual"]) == round(expected["actual"])
            assert _money(shown["baseline"]) == round(expected["baseline"])
            assert shown["attainment"].startswith(f"{expected['attainment'] * 100:.1f} %")
            assert _money(shown["variance"].split()[0].lstrip("+")) == round(expected["variance"])
    assert seen == {g.replace("\r\n", " ") for goals in RECIPIENTS.values() for g in goals}
    for goal_id, actual in ACTUALS.items():
        assert report[goal_id.replace("\r\n", " ")]["actual"] == actual


def test_subject_names_the_period_the_worst_news_and_the_configured_scope(delivered) -> None:
    server, config, *_ = delivered
    _, out, _ = invoke(config, "report", "--as-of", AS_OF, "--format", "json")
    statuses = {g["id"]: g["status"] for g in json.loads(out)["goals"]}
    subjects = {r.rcpt_to[0]: r.message["Subject"] for r in server.inbox.received}
    assert subjects["vp@example.com"] == "2026-Q3 goals: 1 no data"
    emea = [statuses[g] for g in RECIPIENTS["mia@example.com"]]
    assert set(emea) == {"on_track"}  # 350 of 800 with 25 % of the quarter's pace expected
    assert subjects["mia@example.com"] == "2026-Q3 goals: 3 on track (EMEA)"
    assert subjects["ops@example.com"] == "2026-Q3 goals: 1 achieved (NA)"


def test_no_data_says_why_never_zero(delivered) -> None:
    server, *_ = delivered
    [vp] = server.inbox.to("vp@example.com")
    goal = _blocks(parts(vp.message)["text"])["company-win-rate"]
    # three deals closed this quarter (Ann's, Bob's, Cy's): a rate needs five
    assert goal["no data"] == "only 3 deals (a rate needs at least 5)"
    assert "no chart: there is no value to draw yet" in parts(vp.message)["html"]
    assert parts(vp.message)["images"] == {}


def test_hostile_crm_strings_are_escaped_and_never_reach_a_header(delivered) -> None:
    server, *_ = delivered
    for received in server.inbox.received:
        head, _, _ = received.data.partition(b"\r\n\r\n")
        assert b"evil@example.com" not in head and b"<script>" not in head
        assert received.rcpt_to != ["evil@example.com"]
        html = parts(received.message)["html"]
        assert "<script>" not in html
    [bob] = server.inbox.to("bob@example.com")
    html = parts(bob.message)["html"]
    assert (
        "emea-rep/Bob &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Bcc: evil@example.com" in html
    )
    assert bob.message["Subject"] == "2026-Q3 goals: 1 on track (EMEA)"
    assert all(HOSTILE not in str(v) for r in server.inbox.received for v in r.message.values())


def test_stale_source_is_named_at_the_top(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        config = make_mail_config(tmp_path, server, synced_hours_ago=40)
        code, _, err = invoke(config, "email", "--as-of", AS_OF)
        assert code == 0
        assert "warning: crm: its data is 40h old (more than max_data_age 36h)" in err
        for received in server.inbox.received:
            text = parts(received.message)["text"]
            top = text.split("Goals as of")[0]
            assert "crm: its data is 40h old (more than max_data_age 36h)" in top
            assert "out of date" in parts(received.message)["html"].split("Goals as of")[0]


def test_withhold_on_stale_sends_nothing_and_exits_1(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        config = make_mail_config(
            tmp_path, server, synced_hours_ago=None, email_extra="withhold_on_stale = true\n"
        )
        code, out, err = invoke(config, "email", "--as-of", AS_OF)
        assert (code, out) == (1, "")
        assert "warning: crm: never synced successfully" in err
        assert "withheld: no digest sent because some data is stale" in err
        assert server.inbox.received == []


def test_dry_run_writes_eml_files_and_sends_nothing(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        config = make_mail_config(tmp_path, server)
        outbox = tmp_path / "out"
        code, out, _ = invoke(
            config, "email", "--as-of", AS_OF, "--dry-run", "--outbox", str(outbox)
        )
        assert code == 0 and server.inbox.received == []
        assert out == "digests for 2026-08-15: 5 written\n"
        files = sorted(p.name for p in (outbox / AS_OF).iterdir())
        assert files == sorted(f"{a}.eml" for a in RECIPIENTS)
        from email import message_from_bytes, policy

        mia = message_from_bytes(
            (outbox / AS_OF / "mia@example.com.eml").read_bytes(), policy=policy.default
        )
        assert isinstance(mia, EmailMessage)
        assert sorted(_blocks(parts(mia)["text"])) == sorted(
            g.replace("\r\n", " ") for g in RECIPIENTS["mia@example.com"]
        )
        # a dry run is not a send: the real run afterwards sends every digest
        code, out, _ = invoke(config, "email", "--as-of", AS_OF)
        assert (code, out) == (0, "digests for 2026-08-15: 5 sent\n")


def test_to_restricts_the_run(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        config = make_mail_config(tmp_path, server)
        code, out, err = invoke(
            config,
            "email",
            "--as-of",
            AS_OF,
            "--to",
            "ann@example.com",
            "--to",
            "nobody@example.com",
        )
        assert (code, out) == (0, "digests for 2026-08-15: 1 sent\n")
        assert [r.rcpt_to for r in server.inbox.received] == [["ann@example.com"]]
        assert "no goals concern this address: nothing to send: nobody@example.com" in err


def test_each_distinct_chart_is_drawn_once_and_shared_by_every_message(tmp_path: Path) -> None:
    from datetime import date

    from connectors.registry import settings_models
    from jobs.digests import DigestQuery, send_digests
    from tracker.settings import load_settings
    from tracker.store import Store

    config = make_mail_config(tmp_path, None)
    settings = load_settings(config, settings_models())
    store = Store(settings.store.url)
    outbox = tmp_path / "outbox"
    run = send_digests(
        settings, store, date.fromisoformat(AS_OF), DigestQuery(dry_run=True, outbox=outbox)
    )
    store.close()
    # four goals have a value to draw (the company win rate has none): four charts in all,
    # though Ann's and Bob's goals go to them and to their manager alike
    assert run.charts_drawn == 4
    from email import message_from_bytes, policy

    def images(address: str) -> dict[str, bytes]:
        raw = (outbox / AS_OF / f"{address}.eml").read_bytes()
        return parts(message_from_bytes(raw, policy=policy.default))["images"]  # type: ignore[return-value]

    mia, ann = images("mia@example.com"), images("ann@example.com")
    [(cid, data)] = ann.items()
    assert mia[cid] == data and len(mia) == 3
