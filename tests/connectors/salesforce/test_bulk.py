"""Bulk API 2.0 backfills: chunks by CreatedDate, resume at the chunk, ``since``, the feed
thread, and the pure chunk arithmetic."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.salesforce.bulk import Chunk, ChunkLineItems, chunk_edges, chunks_between
from tests.connectors.salesforce.conftest import Harness
from tests.connectors.threads import assert_no_thread_left
from tracker.errors import SourceError
from tracker.records import Batch, JsonDict
from tracker.sync import Progress, load_cursor, run_sync

T0 = datetime(2024, 1, 1, tzinfo=UTC)


class Crash(SourceError):
    """Stands for the process dying right after a commit."""


def _requests(h: Harness, name: str) -> int:
    return int(h.sb.counters.snapshot()["requests"].get(name, 0))


def bulk_creates(h: Harness) -> int:
    return _requests(h, "salesforce.bulk2.create")


def test_chunk_edges_cut_equal_time_spans_after_a_short_first_one() -> None:
    now = T0 + timedelta(days=400)
    edges = chunk_edges(T0, now, expected=100_000, per_chunk=25_000)
    assert edges == [T0 + timedelta(days=25), *(T0 + timedelta(days=100 * i) for i in (1, 2, 3))]
    assert chunk_edges(T0, now, expected=25_000, per_chunk=25_000) == []
    assert chunk_edges(None, now, expected=10**6, per_chunk=1) == []
    assert chunk_edges(now, now, expected=10**6, per_chunk=1) == []
    # never more than MAX_CHUNKS, never an edge outside (first, now)
    many = chunk_edges(T0, now, expected=10**9, per_chunk=1)
    assert len(many) <= 200 and all(T0 < e < now for e in many)
    assert many == sorted(set(many))


def test_chunks_cover_every_created_date_once() -> None:
    edges = [T0, T0 + timedelta(days=1)]
    chunks = chunks_between(edges)
    assert [c.index for c in chunks] == [0, 1, 2]
    assert chunks[0] == Chunk(0, None, T0) and chunks[2] == Chunk(2, edges[1], None)
    assert chunks[0].condition("CreatedDate") == "CreatedDate < 2024-01-01T00:00:00Z"
    assert chunks[1].condition("Opportunity.CreatedDate") == (
        "Opportunity.CreatedDate >= 2024-01-01T00:00:00Z AND "
        "Opportunity.CreatedDate < 2024-01-02T00:00:00Z"
    )
    assert chunks_between([]) == [Chunk(0, None, None)]
    assert Chunk(0, None, None).condition("CreatedDate") == ""


@pytest.mark.parametrize("in_memory", [100_000, 10])  # 10: every chunk goes to a file
def test_a_chunked_backfill_equals_truth_then_goes_incremental(
    harness_factory: Callable[..., Harness], in_memory: int
) -> None:
    h = harness_factory(deals=400)
    result = h.sync(bulk_threshold=50, bulk_chunk_size=100, bulk_memory_line_items=in_memory)
    assert result.outcome == "ok", result.error
    assert h.differences() == []
    chunks = bulk_creates(h) // 2
    assert chunks >= 4  # 400 deals by 100: four spans and a short first one
    assert _requests(h, "salesforce.bulk2.abort") == 0  # every job was read to its end
    with h.store.engine.connect() as conn:
        cursor = load_cursor(conn, "sf")
    assert cursor is not None and "bulk" not in cursor and cursor["opp"]["done"] is True
    h.sb.update_deals("sf", n=5)
    h.sb.delete_deals("sf", n=3)
    h.sb.advance_clock(30)
    assert h.sync(bulk_threshold=50, bulk_chunk_size=100).outcome == "ok"
    assert bulk_creates(h) == 2 * chunks  # REST from now on
    assert h.differences() == []


@pytest.mark.parametrize("crash_at", [2, 5, 9])
def test_an_interrupted_backfill_resumes_at_its_chunk(
    harness_factory: Callable[..., Harness], crash_at: int
) -> None:
    h = harness_factory(deals=400)
    settings = {"bulk_threshold": 50, "bulk_chunk_size": 100}
    connector = h.connector(**settings)

    def crashing(cursor: JsonDict | None) -> Iterator[Batch]:
        for n, batch in enumerate(connector.batches(cursor)):
            if n == crash_at:
                raise Crash("crashed")
            yield batch

    assert run_sync(h.store, "sf", "salesforce", crashing).error == "crashed"
    with h.store.engine.connect() as conn:
        cursor = load_cursor(conn, "sf")
    assert cursor is not None
    done = cursor["bulk"]["done"]
    total = len(cursor["bulk"]["edges"]) + 1
    assert 0 <= done < total
    first_run = bulk_creates(h)
    # the org changes between the runs: the resumed backfill and its tail catch it
    h.sb.update_deals("sf", n=4)
    h.sb.delete_deals("sf", n=2)
    h.sb.advance_clock(10)
    resumed = h.sync(**settings)
    assert resumed.outcome == "ok", resumed.error
    assert bulk_creates(h) - first_run == 2 * (total - done)  # only the chunks left
    assert h.differences() == []
    with h.store.engine.connect() as conn:
        n, distinct = conn.exec_driver_sql(
            "SELECT count(*), count(DISTINCT external_id) FROM deals"
        ).one()
    assert n == distinct
    _no_feed_thread_left()


def test_progress_counts_the_tail_re_reads_beyond_the_estimate(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=400)
    connector = h.connector(bulk_threshold=50, bulk_chunk_size=100)

    def busy_org(cursor: JsonDict | None) -> Iterator[Batch]:
        for n, batch in enumerate(connector.batches(cursor)):
            if n == 4:  # deals already backfilled change: the tail pass reads them again
                h.sb.update_deals("sf", n=40)
            yield batch

    seen: list[Progress] = []
    result = run_sync(h.store, "sf", "salesforce", busy_org, on_progress=seen.append)
    assert result.outcome == "ok", result.error
    assert h.differences() == []
    expected = seen[-1].expected_total
    # the deals re-read count as handled: more than the estimate, which the bar's total
    # (Progress.total, tested in tests/core) follows
    assert expected is not None and seen[-1].records > expected


def test_budget_spent_during_the_backfill_stops_cleanly_and_resumes(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=400)
    h.sb.set_budget("sf", total=1000, used=960)
    settings = {"bulk_threshold": 50, "bulk_chunk_size": 100}
    stopped = h.sync(max_api_percent=40, **settings)  # 40 % of 39 left: 15 calls
    assert stopped.outcome == "stopped" and stopped.exit_code == 3, stopped.error
    assert stopped.error is not None and "tracker sync sf" in stopped.error
    with h.store.engine.connect() as conn:
        cursor = load_cursor(conn, "sf")
    assert cursor is not None and cursor["bulk"]["done"] < len(cursor["bulk"]["edges"]) + 1
    assert stopped.counts.received.get("deals", 0) > 0  # it stopped inside the backfill
    _no_feed_thread_left()
    h.sb.set_budget("sf", total=15_000)
    resumed = h.sync(**settings)
    assert resumed.outcome == "ok", resumed.error
    assert h.differences() == []


def test_a_budget_too_small_for_a_chunk_says_so(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=400)
    settings = {"bulk_threshold": 50, "bulk_chunk_size": 100, "max_api_percent": 40}
    for _ in range(2):
        h.sb.set_budget("sf", total=1000, used=985)  # 40 % of 14 left: 6 calls
        stopped = h.sync(**settings)
        assert stopped.outcome == "stopped" and stopped.exit_code == 3
        assert stopped.error is not None
        assert stopped.error.startswith(
            "API budget for this run spent before Bulk chunk 1 of 4 finished: stopped after"
        )
        assert "starts that chunk over, so raise max_api_percent" in stopped.error
        assert "\n" not in stopped.error
        with h.store.engine.connect() as conn:
            cursor = load_cursor(conn, "sf")
        assert cursor is not None and cursor["bulk"]["done"] == 0
    # a budget that finishes a chunk (6 calls) but not the backfill keeps the plain message
    h.sb.set_budget("sf", total=1000, used=960)  # 16 calls
    further = h.sync(**settings)
    assert further.outcome == "stopped" and further.error is not None
    assert further.error.startswith("API budget for this run spent: stopped after")
    assert "Bulk chunk" not in further.error
    with h.store.engine.connect() as conn:
        cursor = load_cursor(conn, "sf")
    assert cursor is not None and 0 < cursor["bulk"]["done"] < 4
    _no_feed_thread_left()


def test_the_orgs_own_limit_inside_a_backfill_gets_no_chunk_hint(h: Harness) -> None:
    h.sb.faults.add("daily@sf.bulk2.create")  # REQUEST_LIMIT_EXCEEDED: max_api_percent can't help
    stopped = h.sync(bulk_threshold=10, bulk_chunk_size=30)
    assert stopped.outcome == "stopped" and stopped.exit_code == 3
    assert stopped.error is not None and "API request limit is spent" in stopped.error
    assert "Bulk chunk" not in stopped.error
    _no_feed_thread_left()


def test_since_limits_a_bulk_backfill(h: Harness) -> None:
    truth = h.sb.truth("sf").deals
    stamps = sorted(d.source_modified_at for d in truth.values() if d.source_modified_at)
    since = stamps[len(stamps) // 2]
    assert h.sync(since=since.isoformat(), bulk_threshold=10, bulk_chunk_size=30).outcome == "ok"
    assert bulk_creates(h) >= 2
    with h.store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT COUNT(*) FROM deals").scalar()
    assert stored == sum(1 for s in stamps if s >= since)


def test_a_failing_job_stops_the_sync_and_its_thread(h: Harness) -> None:
    h.sb.faults.add("500@sf.bulk2.results,every=1")
    result = h.sync(bulk_threshold=10, bulk_chunk_size=30)
    assert result.outcome == "failed" and result.exit_code == 1
    assert result.error is not None and "HTTP 500" in result.error
    _no_feed_thread_left()
    # the line items' job was complete (nothing to abort); the deals' job, never polled,
    # is aborted
    states = sorted(j.state for j in h.sb.salesforce_api.bulk.jobs.values())
    assert states == ["Aborted", "JobComplete"]


def test_an_abort_that_fails_keeps_the_syncs_error_and_aborts_the_other_job(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=3000)
    h.sb.salesforce_api.bulk.in_progress_polls = 10**6  # both jobs stay in progress
    h.sb.faults.add("500@sf.query,after=5,times=1000")  # the sync's own error
    h.sb.faults.add("expire@sf.bulk2.abort")  # the first abort is refused (401)
    result = h.sync(bulk_threshold=50, bulk_chunk_size=100, page_size=200)
    assert result.outcome == "failed" and result.error is not None
    assert result.error.startswith("Salesforce query") and "HTTP 500" in result.error
    _no_feed_thread_left()
    assert _requests(h, "salesforce.bulk2.abort") == 2
    states = sorted(j.state for j in h.sb.salesforce_api.bulk.jobs.values())
    assert states == ["Aborted", "InProgress"]


def _no_feed_thread_left() -> None:
    assert_no_thread_left("sf-b")


def test_a_failure_elsewhere_stops_a_waiting_jobs_thread_at_once(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=3000)
    h.sb.salesforce_api.bulk.in_progress_polls = 10**6  # the jobs never finish
    # the 4 queries of the opening composite call and CurrencyType pass; the accounts'
    # second page fails (after its retries) while the jobs' thread waits on them
    h.sb.faults.add("500@sf.query,after=5,times=1000")
    started = time.monotonic()
    result = h.sync(bulk_threshold=50, bulk_chunk_size=100, page_size=200)
    assert result.outcome == "failed" and result.error is not None
    assert "HTTP 500" in result.error
    _no_feed_thread_left()
    assert time.monotonic() - started < 4  # not the 10 s poll wait, nor the 2 s join
    # the chunk's jobs, still running, were aborted rather than left to use the org's
    # Bulk capacity
    jobs = h.sb.salesforce_api.bulk.jobs.values()
    assert len(jobs) == 2 and {j.state for j in jobs} == {"Aborted"}


LINE_FIELDS = ["Id", "Name", "TotalPrice", "IsDeleted", "OpportunityId", "Unit_Cost__c"]
HOSTILE = 'Quote "x", comma, new\nline \u202e 名前 \'; DROP TABLE li;--'


def _csv_page(rows: list[list[str]], header: list[str] | None = None) -> str:
    """A Bulk 2.0 result page as Salesforce writes it: every value quoted, header first."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header or LINE_FIELDS)
    writer.writerows(rows)
    return out.getvalue()


def _line_pages() -> list[str]:
    # the columns come in another order than asked; opportunity C has no line item
    header = ["OpportunityId", "Id", "IsDeleted", "Name", "Unit_Cost__c", "TotalPrice", "X"]
    deleted = {3: "true", 4: "", 5: "TRUE"}  # empty and unknown text are null
    rows = [
        ["A", f"L{i}", deleted.get(i, "false"), f"Line {i}", "" if i % 2 else "7.5", f"{i}0", ""]
        for i in range(6)
    ]
    rows += [["B", "L9", "false", HOSTILE, "", "", ""]]
    return [_csv_page(rows[:4], header), _csv_page(rows[4:], header), _csv_page([], header)]


@pytest.mark.parametrize("in_memory", [1000, 3])
def test_chunk_line_items_group_by_opportunity_in_memory_or_spilled(
    tmp_path: Path, in_memory: int
) -> None:
    lines = ChunkLineItems(tmp_path / "li.db", LINE_FIELDS, in_memory=in_memory)
    assert lines.for_deals(["A"]) == {}  # nothing read yet
    for page in _line_pages():
        lines.add_csv(page)
    lines.add_csv("")  # an empty page
    assert lines.spilled is (in_memory < 7)
    assert (tmp_path / "li.db").exists() is lines.spilled
    got = lines.for_deals(["A", "C"])
    assert sorted(got) == ["A"]  # nothing for C
    assert [r["Id"] for r in got["A"]] == [f"L{i}" for i in range(6)]
    assert got["A"][0] == {
        "Id": "L0",
        "Name": "Line 0",
        "TotalPrice": "00",
        "IsDeleted": False,
        "OpportunityId": "A",
        "Unit_Cost__c": "7.5",
    }
    assert got["A"][1]["Unit_Cost__c"] is None  # "" is null
    assert [r["IsDeleted"] for r in got["A"]] == [False, False, False, True, None, None]
    (b,) = lines.for_deals(["B"])["B"]
    assert b["Name"] == HOSTILE and b["TotalPrice"] is None
    assert lines.for_deals(["B", "B"]) == {"B": [b]}  # asked again: the same
    lines.close()


def test_chunk_line_items_read_a_single_field(tmp_path: Path) -> None:
    for in_memory in (1000, 0):
        lines = ChunkLineItems(tmp_path / f"{in_memory}.db", ["OpportunityId"], in_memory)
        lines.add_csv(_csv_page([["A", "L1"]], header=["OpportunityId", "Id"]))
        assert lines.for_deals(["A"]) == {"A": [{"OpportunityId": "A"}]}
        lines.close()


def test_chunk_line_items_refuse_malformed_pages(tmp_path: Path) -> None:
    for in_memory in (1000, 0):
        lines = ChunkLineItems(tmp_path / f"a{in_memory}.db", LINE_FIELDS, in_memory=in_memory)
        lines.add_csv(_csv_page([["1", "n", "1", "false", "A", ""]]))
        with pytest.raises(SourceError, match="a CSV row does not match its header"):
            lines.add_csv(_csv_page([["1", "n", "1", "false", "A"]]))
        with pytest.raises(SourceError, match="result pages disagree on their columns"):
            lines.add_csv(_csv_page([], header=[*LINE_FIELDS, "Extra"]))
        lines.close()
        lines = ChunkLineItems(tmp_path / f"b{in_memory}.db", LINE_FIELDS, in_memory=in_memory)
        with pytest.raises(SourceError, match="the result lacks Unit_Cost__c"):
            lines.add_csv(_csv_page([["1", "n", "1", "false", "A"]], header=LINE_FIELDS[:-1]))
        lines.close()
