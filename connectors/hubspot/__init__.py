"""The HubSpot connector (``kind = "hubspot"``): deals, line items, companies and owners
through hubspot-api-client, with incremental sync on ``hs_lastmodifieddate``."""
