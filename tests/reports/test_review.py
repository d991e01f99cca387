"""``tracker review``: the HTML pack rendered by headless Chromium (no request, no console
message, every image decoded, not blank, prints to PDF), the XLSX workbook read back with
openpyxl (sheets, number formats, values equal to ``tracker report`` and ``tracker
metrics`` JSON), CRM strings escaped, formula-like text kept as text everywhere."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from typer.testing import CliRunner

from tests.chromium import inspect_page, print_pdf, screenshot
from tests.goals.goal_fixtures import won
from tests.mail.mail_fixtures import AS_OF, GOALS, HOSTILE, make_mail_config
from tests.metrics.metrics_fixtures import insert
from tracker.cli import app
from tracker.settings import load_settings
from tracker.store import Store

FORMULA = '=HYPERLINK("http://evil.example","click")'
SHEETS = ["Scorecard", "Trends", "Teams", "Owners", "Deals", "Guardrails", "Data quality"]


def invoke(config: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--config", str(config), *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("review")
    config = make_mail_config(
        folder,
        None,
        goals=GOALS + '\n[[goals]]\nid = "formula-why"\n'
        'metric = "deals_won"\nperiod = "2026-Q3"\ntarget = 1\n'
        'why = "=1+1 looks like a formula"\n',
    )
    from connectors.registry import settings_models

    store = Store(load_settings(config, settings_models()).store.url)
    insert(
        store.engine,
        [
            won(
                "formula",
                date(2026, 8, 1),
                999.0,
                name=FORMULA,
                owner_external_id="o9",
                owner_name="@SUM(1+1)",
                team="EMEA",
            ),
            # discounts: 100 off list on 25 September (in Q3's last 14 days), 50 in July
            won(
                "late",
                date(2026, 9, 25),
                500.0,
                name="Late",
                list_amount=600.0,
                owner_external_id="o10",
                owner_name="Dee",
                team="NA",
            ),
            won(
                "early",
                date(2026, 7, 20),
                300.0,
                name="Early",
                list_amount=350.0,
                owner_external_id="o10",
                owner_name="Dee",
                team="NA",
            ),
        ],
    )
    store.close()
    out = folder / "out"
    printed = invoke(
        config, "review", "--period", "2026-Q3", "--as-of", AS_OF, "--output", str(out)
    )
    html, xlsx = out / "review-2026-Q3.html", out / "review-2026-Q3.xlsx"
    assert printed.splitlines() == [str(html), str(xlsx)]
    return config, html, xlsx


def test_html_is_self_contained_and_renders_in_chromium(
    pack: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, html, _ = pack
    seen = inspect_page(html, tmp_path)
    assert seen["resources"] == []  # nothing fetched: CSS, script and charts are inline
    assert seen["console"] == []
    assert seen["images"] == seen["decoded"]
    assert int(seen["svgs"]) >= 2  # trend charts drawn from the data
    shot = Image.open(io.BytesIO(screenshot(html, tmp_path / "pack.png", 1100, 1400))).convert(
        "RGB"
    )
    assert len(shot.getcolors(maxcolors=1 << 20) or []) > 50
    pages = print_pdf(html, tmp_path / "pack.pdf")
    print(f"review pack printed to {pages} A4 pages")
    assert pages >= 7  # each of the seven sections starts a page


def test_html_sections_in_order_and_crm_strings_escaped(pack: tuple[Path, Path, Path]) -> None:
    _, html, _ = pack
    text = html.read_text(encoding="utf-8")
    anchors = ["scorecard", "trends", "breakdowns", "deals", "guardrails", "next", "quality"]
    positions = [text.index(f'<section id="{a}">') for a in anchors]
    assert positions == sorted(positions)
    assert all(f'href="#{a}"' in text for a in anchors)
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text
    assert text.count("<script>") == 1  # the sorting script, nothing else
    # no reference to anything outside the file (XML namespaces are names, not requests)
    assert not re.findall(r"(?:src|href)=\"(?!#|data:)|url\((?!#|data:)|@import", text)


def test_xlsx_sheets_formats_and_values_equal_the_json(pack: tuple[Path, Path, Path]) -> None:
    config, _, xlsx = pack
    book = load_workbook(xlsx)
    assert book.sheetnames == SHEETS
    for name in SHEETS:
        sheet = book[name]
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    report = json.loads(
        invoke(config, "report", "--period", "2026-Q3", "--as-of", AS_OF, "--format", "json")
    )
    scorecard = book["Scorecard"]
    header = [c.value for c in scorecard[1]]
    rows = {
        r[0]: dict(zip(header, r, strict=True))
        for r in scorecard.iter_rows(min_row=2, values_only=True)
    }
    for goal in report["goals"]:
        row = rows[goal["id"]]
        for key in ("actual", "target", "attainment"):  # JSON keeps 12 significant digits
            assert row[key] == (None if goal[key] is None else pytest.approx(goal[key], rel=1e-11))
    column = header.index("attainment") + 1
    assert scorecard.cell(row=2, column=column).number_format == "0.0%"
    metrics = json.loads(
        invoke(config, "metrics", "--period", "2026-Q3", "--by", "team", "--format", "json")
    )
    teams = book["Teams"]
    team_header = [c.value for c in teams[1]]
    by_team = {
        r[0]: dict(zip(team_header, r, strict=True))
        for r in teams.iter_rows(min_row=2, values_only=True)
    }
    checked = 0
    for row in metrics["rows"]:
        if row["scope"] and row["metric"] in team_header:
            expected = row["value"]
            got = by_team[row["scope"]["team"]][row["metric"]]
            assert got == (None if expected is None else pytest.approx(expected, rel=1e-11))
            checked += 1
    assert checked >= 10
    revenue = team_header.index("revenue") + 1
    assert teams.cell(row=2, column=revenue).number_format == "#,##0"
    assert isinstance(teams.cell(row=2, column=revenue).value, float | int)


def test_formula_like_text_stays_text_in_xlsx_and_csv(pack: tuple[Path, Path, Path]) -> None:
    config, _, xlsx = pack
    deals = load_workbook(xlsx)["Deals"]
    names = [r[1] for r in deals.iter_rows(min_row=2, values_only=True)]
    assert "'" + FORMULA in names and FORMULA not in names
    cell = next(c for c in deals["B"] if c.value == "'" + FORMULA)
    assert cell.data_type == "s"
    owners = [r[2] for r in deals.iter_rows(min_row=2, values_only=True)]
    assert "'@SUM(1+1)" in owners
    out = invoke(config, "metrics", "--period", "2026-Q3", "--by", "owner", "--format", "csv")
    values = [r["scope_value"] for r in csv.DictReader(io.StringIO(out))]
    assert "'@SUM(1+1)" in values and "@SUM(1+1)" not in values
    out = invoke(config, "report", "--period", "2026-Q3", "--as-of", AS_OF, "--format", "csv")
    whys = [r["why"] for r in csv.DictReader(io.StringIO(out))]
    assert "'=1+1 looks like a formula" in whys
    assert HOSTILE.replace("\r\n", " ") not in out  # CR/LF: the CSV quotes it, never splits


def test_period_end_discount_clustering_by_hand(pack: tuple[Path, Path, Path]) -> None:
    _, html, xlsx = pack
    # Q3's won revenue: Ann 150, Bob 200, Cy 120 + 500 + 300, the formula deal 999 = 2,269;
    # in its last 14 days (17-30 September) only the 500. Discount: 100 of 150 given then.
    page = html.read_text(encoding="utf-8")
    text = page[page.index("<h3>Discount at period end</h3>") :]
    text = text[: text.index("</table>")]
    company = re.search(
        r"<tr><td>company</td><td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td>",
        text,
    )
    assert company is not None
    assert company.groups() == ("66.7 %", "22.0 %", f"{(100 / 150) / (500 / 2269):.2f}")
    na = re.search(
        r"<tr><td>NA</td><td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td>", text
    )
    assert na is not None and na.groups() == ("66.7 %", f"{500 / 920 * 100:.1f} %")
    rows = list(load_workbook(xlsx)["Guardrails"].iter_rows(min_row=2, values_only=True))
    shares = {(r[1], r[2]): r[3] for r in rows if str(r[2]).endswith("_share")}
    assert shares[("company", "discount_in_last_14_days_share")] == pytest.approx(100 / 150)
    assert shares[("company", "revenue_in_last_14_days_share")] == pytest.approx(500 / 2269)
