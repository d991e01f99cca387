"""Describe, describeGlobal and record bodies of the emulated org, shaped like the REST API."""

from __future__ import annotations

from typing import Any

from sandbox.salesforce.sobjects import FieldDef, ObjectDef, Row
from sandbox.salesforce.soql_eval import rest_formatter

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "string": "xsd:string",
    "textarea": "xsd:string",
    "picklist": "xsd:string",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}
_SYSTEM_FIELDS = frozenset(
    {"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById"}
    | {"SystemModstamp"}
)


def object_urls(obj: ObjectDef, version: str) -> dict[str, str]:
    """The ``urls`` block of an object."""
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "describe": f"{base}/describe",
        "sobject": base,
    }


def object_summary(obj: ObjectDef, version: str) -> dict[str, Any]:
    """One entry of describeGlobal (also ``objectDescribe`` of the basic-info resource)."""
    return {
        "activateable": False,
        "createable": True,
        "custom": obj.name.endswith("__c"),
        "customSetting": False,
        "deletable": True,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label or obj.name,
        "labelPlural": (obj.label or obj.name) + "s",
        "layoutable": True,
        "mergeable": False,
        "mruEnabled": True,
        "name": obj.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": True,
        "updateable": True,
        "urls": object_urls(obj, version),
    }


def field_describe(f: FieldDef) -> dict[str, Any]:
    """One entry of ``fields`` in a describe."""
    system = f.name in _SYSTEM_FIELDS
    numeric = f.type in ("double", "currency", "percent", "int")
    return {
        "aggregatable": f.type not in ("textarea",),
        "autoNumber": False,
        "byteLength": f.length * 3 if f.length else 0,
        "calculated": f.calculated,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "createable": not (system or f.calculated),
        "custom": f.custom,
        "defaultValue": None,
        "defaultedOnCreate": system or f.type == "boolean",
        "dependentPicklist": False,
        "digits": 9 if f.type == "int" else 0,
        "externalId": False,
        "filterable": f.filterable,
        "groupable": f.type not in ("double", "currency", "percent", "datetime", "textarea"),
        "idLookup": f.type == "id",
        "label": f.label or f.name,
        "length": f.length if f.type in ("string", "textarea", "picklist", "id") else 0,
        "name": f.name,
        "nameField": f.name == "Name",
        "nillable": f.nillable,
        "picklistValues": [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in f.picklist_values
        ],
        "precision": 18 if numeric and f.type != "int" else 0,
        "referenceTo": [f.reference_to] if f.reference_to else [],
        "relationshipName": f.relationship_name,
        "restrictedPicklist": False,
        "scale": 2 if f.type in ("currency", "percent") else 0,
        "soapType": _SOAP_TYPES[f.type],
        "sortable": f.sortable,
        "type": f.type,
        "unique": False,
        "updateable": not (system or f.calculated),
    }


def describe(obj: ObjectDef, objects: dict[str, ObjectDef], version: str) -> dict[str, Any]:
    """The full ``sobjects/{Object}/describe`` body."""
    body = object_summary(obj, version)
    body["childRelationships"] = [
        {
            "cascadeDelete": rel.child_object == "OpportunityLineItem",
            "childSObject": rel.child_object,
            "deprecatedAndHidden": False,
            "field": rel.field,
            "junctionIdListNames": [],
            "junctionReferenceTo": [],
            "relationshipName": rel.name,
            "restrictedDelete": False,
        }
        for rel in obj.child_relationships.values()
        if rel.child_object in objects
    ]
    body["fields"] = [field_describe(f) for f in obj.fields.values()]
    body["recordTypeInfos"] = []
    body["supportedScopes"] = [{"label": "All", "name": "everything"}]
    return body


def record_body(obj: ObjectDef, row: Row, version: str) -> dict[str, Any]:
    """``GET sobjects/{Object}/{Id}``: every field of one record."""
    out: dict[str, Any] = {
        "attributes": {
            "type": obj.name,
            "url": f"/services/data/v{version}/sobjects/{obj.name}/{row['Id']}",
        }
    }
    for name, f in obj.fields.items():
        fmt = rest_formatter(f)
        value = row.get(name)
        out[name] = fmt(value) if fmt is not None else value
    return out
