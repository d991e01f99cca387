"""Who receives which goals in the variance digest (``docs/email.md``).

A goal goes to its ``notify`` list when it has one. Otherwise to the owner of an
owner-scoped goal and the manager of the team in scope (for an owner: the owner's own
manager; for a team: the manager most of its members report to), with addresses from the
CRM's users/owners. A goal nobody is found for goes to ``[email] default_to``. A
recipient with goals in several scopes gets them all in one message.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr

from tracker.goals.result import GoalResult


@dataclass(frozen=True, slots=True)
class Person:
    """A CRM user as the store knows them (``label`` is their ``owner`` value)."""

    source: str
    external_id: str
    name: str | None
    email: str | None
    manager_external_id: str | None
    team: str | None
    is_active: bool | None = None

    @property
    def label(self) -> str:
        """The value deals show in the ``owner`` dimension."""
        return self.name or self.external_id


@dataclass
class Directory:
    """People by owner label and by team, with their managers."""

    people: Sequence[Person]
    _by_label: dict[str, list[Person]] = field(init=False, default_factory=dict)
    _by_key: dict[tuple[str, str], Person] = field(init=False, default_factory=dict)
    _by_team: dict[str, list[Person]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for person in self.people:
            self._by_label.setdefault(person.label, []).append(person)
            self._by_key[(person.source, person.external_id)] = person
            if person.team and person.is_active is not False:
                self._by_team.setdefault(person.team, []).append(person)

    def manager_of(self, person: Person) -> Person | None:
        """The person's manager, if the CRM names one."""
        if person.manager_external_id is None:
            return None
        return self._by_key.get((person.source, person.manager_external_id))

    def owners(self, label: str) -> list[Person]:
        """Everyone shown as ``label`` in the owner dimension (one per source, usually)."""
        return list(self._by_label.get(label, ()))

    def team_managers(self, team: str) -> list[Person]:
        """The manager most of the team's active members report to (all of them on a tie)."""
        counts: Counter[tuple[str, str]] = Counter()
        for member in self._by_team.get(team, ()):
            manager = self.manager_of(member)
            if manager is not None:
                counts[(manager.source, manager.external_id)] += 1
        if not counts:
            return []
        most = max(counts.values())
        return [self._by_key[key] for key, n in sorted(counts.items()) if n == most]


@dataclass(frozen=True)
class Routing:
    """Each recipient's goals (worst first) and the goals nobody could be found for."""

    by_recipient: dict[str, list[GoalResult]]
    unaddressed: list[GoalResult]


def bare(address: str) -> str:
    """The address alone, lower-cased (``Mia <Mia@X.com>`` → ``mia@x.com``)."""
    return (parseaddr(address)[1] or address).strip().lower()


def _addresses(people: Iterable[Person | None]) -> list[str]:
    return [p.email for p in people if p is not None and p.email]


def natural_recipients(result: GoalResult, directory: Directory) -> list[str]:
    """The goal's ``notify`` list, else its owner and the manager of its team in scope."""
    if result.goal.config.notify:
        return list(result.goal.config.notify)
    scope = dict(result.goal.scope)
    found: list[str] = []
    owner = scope.get("owner")
    if owner is not None:
        people = directory.owners(owner)
        found += _addresses(people)
        found += _addresses(directory.manager_of(p) for p in people)
    elif scope.get("team") is not None:
        found += _addresses(directory.team_managers(str(scope["team"])))
    return found


def route(
    results: Sequence[GoalResult], directory: Directory, default_to: Sequence[str]
) -> Routing:
    """Every goal to its recipients (``natural_recipients``, else ``default_to``)."""
    by_recipient: dict[str, list[GoalResult]] = defaultdict(list)
    unaddressed: list[GoalResult] = []
    for result in sorted(results, key=lambda r: r.order):
        addresses = natural_recipients(result, directory) or list(default_to)
        if not addresses:
            unaddressed.append(result)
        for address in dict.fromkeys(bare(a) for a in addresses):
            by_recipient[address].append(result)
    return Routing(dict(sorted(by_recipient.items())), unaddressed)


def restrict(routing: Routing, only: Sequence[str]) -> Routing:
    """The routing kept to the ``only`` addresses (``--to``); empty ``only`` keeps all."""
    if not only:
        return routing
    wanted = {bare(a) for a in only}
    kept = {a: goals for a, goals in routing.by_recipient.items() if a in wanted}
    return Routing(kept, routing.unaddressed)
