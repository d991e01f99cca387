"""The HubSpot portal of the sandbox: CRM v3 objects (list, batch read, search), v4
associations, owners, pipelines and properties, over in-memory objects."""
