"""Routing goals to people, by hand-built directories (pure: no store, no mail)."""

from __future__ import annotations

from tracker.recipients import Directory, Person, bare

PEOPLE = [
    Person("crm", "m1", "Mia", "mia@example.com", None, "EMEA", True),
    Person("crm", "o1", "Ann", "ann@example.com", "m1", "EMEA", True),
    Person("crm", "o2", "Bob", "bob@example.com", "m1", "EMEA", True),
    Person("crm", "o3", "Cy", "cy@example.com", "m2", "EMEA", True),  # on loan from NA
    Person("crm", "m2", "Nat", "nat@example.com", "vp", "NA", True),
    Person("crm", "vp", "Val", "val@example.com", None, None, True),
    Person("hub", "o1", "Ann", None, "x", "APAC", True),  # same name, other CRM, no email
    Person("crm", "o9", "Gone", "gone@example.com", "m2", "EMEA", False),
]


def test_team_manager_is_who_most_members_report_to() -> None:
    directory = Directory(PEOPLE)
    assert [p.email for p in directory.team_managers("EMEA")] == ["mia@example.com"]
    # NA's only active member is its manager, who reports to the VP
    assert [p.email for p in directory.team_managers("NA")] == ["val@example.com"]
    assert directory.team_managers("LATAM") == []


def test_owner_lookup_spans_sources_and_manager_stays_in_its_source() -> None:
    directory = Directory(PEOPLE)
    owners = directory.owners("Ann")
    assert [(p.source, p.email) for p in owners] == [("crm", "ann@example.com"), ("hub", None)]
    assert [directory.manager_of(p) for p in owners][1] is None  # "x" is not a hub user
    assert directory.manager_of(owners[0]).email == "mia@example.com"  # type: ignore[union-attr]


def test_bare_addresses() -> None:
    assert bare("Mia Example <Mia@Example.COM>") == "mia@example.com"
    assert bare(" ann@example.com ") == "ann@example.com"
