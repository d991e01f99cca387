"""The Salesforce org of the sandbox: REST (query/queryAll, sObject describe, getDeleted,
updated), Composite, Bulk API 2.0 and the SOAP/OAuth logins, over an in-memory SObject
database with a SOQL subset."""
