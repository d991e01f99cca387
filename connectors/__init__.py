"""Source connectors: one package per source kind, plus the CRM sandbox."""
