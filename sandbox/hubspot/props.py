"""HubSpot property definitions (``/crm/v3/properties/{objectType}``) of the emulated portal.

Types drive search comparisons: ``number`` compares numerically, ``datetime``/``date`` as
epoch milliseconds, everything else as case-insensitive strings.
"""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.data import PIPELINES

# name, type, fieldType, label, calculated
_COMMON = (
    ("createdate", "datetime", "date", "Create Date", False),
    ("hs_lastmodifieddate", "datetime", "date", "Last Modified Date", True),
    ("hs_object_id", "number", "number", "Record ID", True),
    ("hubspot_owner_id", "enumeration", "select", "Owner", False),
)
_DEALS = (
    ("dealname", "string", "text", "Deal Name", False),
    ("amount", "number", "number", "Amount", False),
    ("closedate", "datetime", "date", "Close Date", False),
    ("dealstage", "enumeration", "radio", "Deal Stage", False),
    ("pipeline", "enumeration", "select", "Pipeline", False),
    ("deal_currency_code", "enumeration", "select", "Currency", False),
    ("dealtype", "enumeration", "radio", "Deal Type", False),
    ("hs_is_closed", "bool", "booleancheckbox", "Is Deal Closed?", True),
    ("hs_is_closed_won", "bool", "booleancheckbox", "Is Closed Won", True),
    ("hs_deal_stage_probability", "number", "number", "Deal Stage Probability", True),
    ("hs_num_of_associated_line_items", "number", "number", "Number of Line Items", True),
    ("hs_merged_object_ids", "enumeration", "checkbox", "Merged Deal IDs", True),
)
_COMPANIES = (
    ("name", "string", "text", "Company Name", False),
    ("domain", "string", "text", "Company Domain Name", False),
    ("industry", "enumeration", "select", "Industry", False),
    ("customer_segment", "enumeration", "select", "Customer Segment", False),
)
_LINE_ITEMS = (
    ("name", "string", "text", "Name", False),
    ("price", "number", "number", "Unit Price", False),
    ("quantity", "number", "number", "Quantity", False),
    ("amount", "number", "number", "Net Price", True),
    ("discount", "number", "number", "Unit Discount", False),
    ("hs_discount_percentage", "number", "number", "Discount Percentage", False),
    ("hs_pre_discount_amount", "number", "number", "Pre-Discount Amount", True),
    ("hs_cost_of_goods_sold", "number", "number", "Unit Cost", False),
    ("hs_product_id", "number", "number", "Product ID", False),
    ("hs_sku", "string", "text", "SKU", False),
    ("hs_line_item_currency_code", "enumeration", "select", "Currency", False),
)
_PRODUCTS = (
    ("name", "string", "text", "Name", False),
    ("price", "number", "number", "Unit Price", False),
    ("hs_sku", "string", "text", "SKU", False),
    ("hs_cost_of_goods_sold", "number", "number", "Unit Cost", False),
)
_CALLS = (
    ("hs_timestamp", "datetime", "date", "Activity date", False),
    ("hs_createdate", "datetime", "date", "Created at", True),
    ("hs_call_title", "string", "text", "Call Title", False),
    ("hs_call_status", "enumeration", "select", "Call status", False),
    ("hs_call_direction", "enumeration", "select", "Call direction", False),
    ("hs_call_duration", "number", "number", "Call duration", False),
)
_MEETINGS = (
    ("hs_timestamp", "datetime", "date", "Activity date", False),
    ("hs_createdate", "datetime", "date", "Created at", True),
    ("hs_meeting_title", "string", "text", "Meeting name", False),
    ("hs_meeting_outcome", "enumeration", "select", "Meeting outcome", False),
    ("hs_meeting_start_time", "datetime", "date", "Start time", False),
    ("hs_meeting_end_time", "datetime", "date", "End time", False),
)
_EMAILS = (
    ("hs_timestamp", "datetime", "date", "Activity date", False),
    ("hs_createdate", "datetime", "date", "Created at", True),
    ("hs_email_subject", "string", "text", "Email subject", False),
    ("hs_email_status", "enumeration", "select", "Email send status", False),
    ("hs_email_direction", "enumeration", "select", "Email direction", False),
)
_BY_TYPE = {
    "calls": _CALLS,
    "meetings": _MEETINGS,
    "emails": _EMAILS,
    "deals": _DEALS,
    "companies": _COMPANIES,
    "line_items": _LINE_ITEMS,
    "products": _PRODUCTS,
}
CUSTOM = {("companies", "customer_segment")}


def _options(object_type: str, name: str) -> list[dict[str, Any]]:
    if (object_type, name) == ("deals", "dealstage"):
        stages = [(sid, label) for _, _, ss in PIPELINES for sid, label, _, _ in ss]
    elif name == "pipeline":
        stages = [(pid, label) for pid, label, _ in PIPELINES]
    elif name == "dealtype":
        stages = [("newbusiness", "New Business"), ("existingbusiness", "Existing Business")]
    elif name == "customer_segment":
        stages = [(s, s) for s in ("SMB", "Mid-Market", "Enterprise")]
    else:
        return []
    return [
        {"label": label, "value": value, "displayOrder": i, "hidden": False}
        for i, (value, label) in enumerate(stages)
    ]


def property_defs(object_type: str) -> list[dict[str, Any]]:
    """Every property of an object type, as ``GET /crm/v3/properties/{type}`` lists them."""
    out = []
    for i, (name, type_, field_type, label, calculated) in enumerate(
        (*_BY_TYPE[object_type], *_COMMON)
    ):
        custom = (object_type, name) in CUSTOM
        out.append(
            {
                "name": name,
                "label": label,
                "type": type_,
                "fieldType": field_type,
                "description": "",
                "groupName": f"{object_type[:-1]}information",
                "options": _options(object_type, name),
                "displayOrder": i,
                "calculated": calculated,
                "externalOptions": False,
                "hasUniqueValue": name == "hs_object_id",
                "hidden": False,
                "hubspotDefined": not custom,
                "formField": not calculated,
                "modificationMetadata": {
                    "archivable": custom,
                    "readOnlyDefinition": not custom,
                    "readOnlyValue": calculated,
                },
                "createdAt": "2020-01-01T00:00:00.000Z",
                "updatedAt": "2020-01-01T00:00:00.000Z",
                "archived": False,
            }
        )
    return out


def property_types(object_type: str) -> dict[str, str]:
    """Property name → HubSpot type, for search comparisons."""
    return {name: type_ for name, type_, *_ in (*_BY_TYPE[object_type], *_COMMON)}
