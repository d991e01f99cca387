"""``kind = "salesforce"``: opportunities, line items, accounts and users via simple-salesforce.

``client.py`` is the only module importing the SDK; ``mapping.py`` turns payloads into the
core's records; ``queries.py`` builds SOQL; ``streams.py`` walks SystemModstamp windows;
``connector.py`` ties them into the ``Connector`` contract.
"""
