"""The schema of the org the sandbox emulates: field, relationship and object definitions.

:class:`FieldDef` describes one field (API name, type, lookup target, relationship name,
custom/nillable/calculated flags); :class:`ChildRelationship` one parent-to-children link
(``Opportunity.OpportunityLineItems`` → ``OpportunityLineItem.OpportunityId``);
:class:`ObjectDef` one SObject with its fields, child relationships and 3-character Id key
prefix. Field, relationship and object names are looked up case-insensitively (as SOQL
does) and reported with their canonical spelling.

:func:`standard_schema` builds the org the sandbox emulates:

- ``Opportunity`` (006): Name, AccountId → Account, OwnerId → User (relationship
  ``Owner``), Amount, CloseDate, StageName, IsClosed, IsWon, Type, ForecastCategory,
  ForecastCategoryName, Probability, FiscalYear, FiscalQuarter, HasOpportunityLineItem,
  LeadSource, Description; children ``OpportunityLineItems``, ``OpportunityHistories``.
- ``OpportunityLineItem`` (00k): OpportunityId, Product2Id → Product2, PricebookEntryId,
  Name, ProductCode, ListPrice, UnitPrice, Quantity, Discount (percent), Subtotal and
  TotalPrice (calculated), ServiceDate, custom ``Unit_Cost__c`` (currency).
- ``Account`` (001): Name, Industry, Type, OwnerId → User, custom ``Segment__c``;
  children ``Opportunities``.
- ``User`` (005): Name, FirstName, LastName, Email, Username, ManagerId → User
  (relationship ``Manager``), UserRoleId → UserRole, IsActive, Department, custom
  ``Region__c``; children ``ManagedUsers``.
- ``OpportunityHistory`` (008): OpportunityId, StageName, Amount, CloseDate, Probability,
  ForecastCategory.
- ``Product2`` (01t): Name, ProductCode, Family, IsActive. ``UserRole`` (00E): Name.
- ``Task`` (00T) and ``Event`` (00U): Subject, WhatId and WhoId (polymorphic), AccountId
  (derived), OwnerId, ActivityDate, IsArchived; Task: TaskSubtype (Task, Email, ListEmail,
  Cadence, Call, LinkedIn), Type, Status, IsClosed, Priority, CompletedDateTime,
  CallDurationInSeconds, CallDisposition, CallType; Event: EventSubtype, StartDateTime,
  EndDateTime, ActivityDateTime, DurationInMinutes, IsAllDayEvent, ShowAs.
- With ``multi_currency=True``: ``CurrencyIsoCode`` on Opportunity, OpportunityLineItem
  and Account, and ``CurrencyType`` (01L: IsoCode, ConversionRate, IsCorporate,
  IsActive, DecimalPlaces). Without it, querying CurrencyIsoCode is INVALID_FIELD.
  With advanced currency management as well (``dated_rates=True``): ``DatedConversionRate``
  (04w: IsoCode, ConversionRate, StartDate, NextStartDate); without it that object is
  INVALID_TYPE, as Salesforce answers.

Every object also has Id, IsDeleted, CreatedDate, CreatedById, LastModifiedDate,
LastModifiedById and SystemModstamp.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

FieldType = Literal[
    "id",
    "string",
    "textarea",
    "picklist",
    "double",
    "currency",
    "percent",
    "int",
    "boolean",
    "date",
    "datetime",
    "reference",
]

AUDIT_FIELDS = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)


@dataclass(frozen=True)
class FieldDef:
    """One SObject field as ``describe`` reports it."""

    name: str
    type: FieldType
    reference_to: str | None = None
    relationship_name: str | None = None
    custom: bool = False
    nillable: bool = True
    calculated: bool = False
    label: str = ""
    length: int = 0
    picklist_values: tuple[str, ...] = ()
    filterable: bool = True
    sortable: bool = True


@dataclass(frozen=True)
class ChildRelationship:
    """A parent-to-children link, e.g. ``("OpportunityLineItems", "OpportunityLineItem",
    "OpportunityId")``."""

    name: str
    child_object: str
    field: str


@dataclass
class ObjectDef:
    """One SObject type: fields and child relationships keyed by canonical name."""

    name: str
    fields: dict[str, FieldDef]
    child_relationships: dict[str, ChildRelationship]
    key_prefix: str
    label: str = ""
    _fields_ci: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _relationships_ci: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _children_ci: dict[str, ChildRelationship] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        """Rebuild the case-insensitive lookups after ``fields`` or children changed."""
        self._fields_ci = {name.lower(): f for name, f in self.fields.items()}
        self._relationships_ci = {
            f.relationship_name.lower(): f for f in self.fields.values() if f.relationship_name
        }
        self._children_ci = {name.lower(): c for name, c in self.child_relationships.items()}

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name`` (any case), or None."""
        return self._fields_ci.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The lookup field whose relationship name is ``name`` (any case), or None."""
        return self._relationships_ci.get(name.lower())

    def child_relationship(self, name: str) -> ChildRelationship | None:
        """The child relationship called ``name`` (any case), or None."""
        return self._children_ci.get(name.lower())


# --- schema ---------------------------------------------------------------------------------


def _f(name: str, type_: FieldType, **kw: Any) -> FieldDef:
    return FieldDef(name=name, type=type_, label=kw.pop("label", name), **kw)


def _ref(name: str, target: str, rel: str, **kw: Any) -> FieldDef:
    return _f(name, "reference", reference_to=target, relationship_name=rel, **kw)


def _audit_fields() -> list[FieldDef]:
    return [
        _f("Id", "id", nillable=False, length=18),
        _f("IsDeleted", "boolean", nillable=False),
        _f("CreatedDate", "datetime", nillable=False),
        _ref("CreatedById", "User", "CreatedBy"),
        _f("LastModifiedDate", "datetime", nillable=False),
        _ref("LastModifiedById", "User", "LastModifiedBy"),
        _f("SystemModstamp", "datetime", nillable=False),
    ]


def _object(
    name: str,
    prefix: str,
    fields: Iterable[FieldDef],
    children: Iterable[ChildRelationship] = (),
) -> ObjectDef:
    all_fields = {f.name: f for f in (*_audit_fields(), *fields)}
    return ObjectDef(
        name=name,
        fields=all_fields,
        child_relationships={c.name: c for c in children},
        key_prefix=prefix,
        label=name,
    )


STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
OPPORTUNITY_TYPES = (
    "New Customer",
    "Existing Customer - Upgrade",
    "Existing Customer - Replacement",
    "Existing Customer - Downgrade",
)
FORECAST_CATEGORIES = ("Omitted", "Pipeline", "BestCase", "MostLikely", "Forecast", "Closed")


TASK_SUBTYPES = ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn")
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")


def _activity_fields() -> list[FieldDef]:
    """Fields Task and Event share (WhatId/WhoId are polymorphic: no relationship here)."""
    return [
        _f("Subject", "string", length=255),
        _f("WhatId", "reference"),
        _f("WhoId", "reference"),
        _ref("AccountId", "Account", "Account", calculated=True),
        _ref("OwnerId", "User", "Owner", nillable=False),
        _f("ActivityDate", "date"),
        _f("IsArchived", "boolean", nillable=False),
        _f("Description", "textarea", length=32000, filterable=False, sortable=False),
    ]


def _task_fields() -> list[FieldDef]:
    return [
        _f("TaskSubtype", "picklist", picklist_values=TASK_SUBTYPES),
        _f("Type", "picklist", picklist_values=("Call", "Email", "Meeting", "Other")),
        _f("Status", "picklist", nillable=False, picklist_values=TASK_STATUSES),
        _f("IsClosed", "boolean", nillable=False, calculated=True),
        _f("Priority", "picklist", nillable=False, picklist_values=("High", "Normal", "Low")),
        _f("CompletedDateTime", "datetime"),
        _f("CallDurationInSeconds", "int"),
        _f("CallDisposition", "string", length=255),
        _f("CallType", "picklist", picklist_values=("Internal", "Inbound", "Outbound")),
    ]


def _event_fields() -> list[FieldDef]:
    return [
        _f("EventSubtype", "picklist", picklist_values=("Event",)),
        _f("StartDateTime", "datetime"),
        _f("EndDateTime", "datetime"),
        _f("ActivityDateTime", "datetime"),
        _f("DurationInMinutes", "int"),
        _f("IsAllDayEvent", "boolean", nillable=False),
        _f("ShowAs", "picklist", picklist_values=("Busy", "OutOfOffice", "Free")),
    ]


def standard_schema(
    multi_currency: bool = False, dated_rates: bool = False
) -> dict[str, ObjectDef]:
    """The objects of the emulated org (see the module docstring), keyed by API name;
    ``dated_rates`` (advanced currency management, multi-currency orgs only) adds
    ``DatedConversionRate``."""
    currency = [_f("CurrencyIsoCode", "picklist", picklist_values=("USD", "EUR", "GBP"))]
    cur = currency if multi_currency else []
    objects = [
        _object(
            "Opportunity",
            "006",
            [
                _f("Name", "string", nillable=False, length=120),
                _ref("AccountId", "Account", "Account"),
                _ref("OwnerId", "User", "Owner", nillable=False),
                _f("Amount", "currency"),
                _f("CloseDate", "date", nillable=False),
                _f("StageName", "picklist", nillable=False, picklist_values=STAGES),
                _f("IsClosed", "boolean", nillable=False),
                _f("IsWon", "boolean", nillable=False),
                _f("Type", "picklist", picklist_values=OPPORTUNITY_TYPES),
                _f(
                    "ForecastCategory",
                    "picklist",
                    nillable=False,
                    picklist_values=FORECAST_CATEGORIES,
                ),
                _f("ForecastCategoryName", "picklist", picklist_values=FORECAST_CATEGORIES),
                _f("Probability", "percent"),
                _f("FiscalYear", "int"),
                _f("FiscalQuarter", "int"),
                _f("HasOpportunityLineItem", "boolean", nillable=False),
                _f("LeadSource", "picklist"),
                _f("Description", "textarea", length=32000, filterable=False, sortable=False),
                *cur,
            ],
            [
                ChildRelationship("OpportunityLineItems", "OpportunityLineItem", "OpportunityId"),
                ChildRelationship("OpportunityHistories", "OpportunityHistory", "OpportunityId"),
            ],
        ),
        _object(
            "OpportunityLineItem",
            "00k",
            [
                _ref("OpportunityId", "Opportunity", "Opportunity", nillable=False),
                _ref("Product2Id", "Product2", "Product2"),
                _f("PricebookEntryId", "reference", reference_to="PricebookEntry"),
                _f("Name", "string", length=376),
                _f("ProductCode", "string", length=255),
                _f("ListPrice", "currency"),
                _f("UnitPrice", "currency"),
                _f("Quantity", "double", nillable=False),
                _f("Discount", "percent"),
                _f("Subtotal", "currency", calculated=True),
                _f("TotalPrice", "currency"),
                _f("ServiceDate", "date"),
                _f("Unit_Cost__c", "currency", custom=True, label="Unit Cost"),
                *cur,
            ],
        ),
        _object(
            "Account",
            "001",
            [
                _f("Name", "string", nillable=False, length=255),
                _f("Industry", "picklist"),
                _f("Type", "picklist"),
                _ref("OwnerId", "User", "Owner", nillable=False),
                _f(
                    "Segment__c",
                    "picklist",
                    custom=True,
                    label="Segment",
                    picklist_values=("SMB", "Mid-Market", "Enterprise"),
                ),
                *cur,
            ],
            [ChildRelationship("Opportunities", "Opportunity", "AccountId")],
        ),
        _object(
            "User",
            "005",
            [
                _f("Name", "string", nillable=False, calculated=True, length=121),
                _f("FirstName", "string", length=40),
                _f("LastName", "string", nillable=False, length=80),
                _f("Email", "string", nillable=False, length=128),
                _f("Username", "string", nillable=False, length=80),
                _ref("ManagerId", "User", "Manager"),
                _ref("UserRoleId", "UserRole", "UserRole"),
                _f("IsActive", "boolean", nillable=False),
                _f("Department", "string", length=80),
                _f("Region__c", "picklist", custom=True, label="Region"),
            ],
            [ChildRelationship("ManagedUsers", "User", "ManagerId")],
        ),
        _object(
            "OpportunityHistory",
            "008",
            [
                _ref("OpportunityId", "Opportunity", "Opportunity", nillable=False),
                _f("StageName", "picklist", nillable=False, picklist_values=STAGES),
                _f("Amount", "currency"),
                _f("CloseDate", "date"),
                _f("Probability", "percent"),
                _f("ForecastCategory", "picklist", picklist_values=FORECAST_CATEGORIES),
            ],
        ),
        _object(
            "Product2",
            "01t",
            [
                _f("Name", "string", nillable=False, length=255),
                _f("ProductCode", "string", length=255),
                _f("Family", "picklist"),
                _f("IsActive", "boolean", nillable=False),
            ],
        ),
        _object("UserRole", "00E", [_f("Name", "string", nillable=False, length=80)]),
        _object("Task", "00T", [*_activity_fields(), *_task_fields()]),
        _object("Event", "00U", [*_activity_fields(), *_event_fields()]),
    ]
    if multi_currency:
        objects.append(
            _object(
                "CurrencyType",
                "01L",
                [
                    _f("IsoCode", "picklist", nillable=False),
                    _f("ConversionRate", "double", nillable=False),
                    _f("IsCorporate", "boolean", nillable=False),
                    _f("IsActive", "boolean", nillable=False),
                    _f("DecimalPlaces", "int", nillable=False),
                ],
            )
        )
        if dated_rates:
            objects.append(
                _object(
                    "DatedConversionRate",
                    "04w",
                    [
                        _f("IsoCode", "picklist", nillable=False),
                        _f("ConversionRate", "double", nillable=False),
                        _f("StartDate", "date", nillable=False),
                        _f("NextStartDate", "date"),
                    ],
                )
            )
    return {o.name: o for o in objects}
