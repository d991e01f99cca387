"""CSV / XLSX exports as a source (``kind = "csv"``)."""
