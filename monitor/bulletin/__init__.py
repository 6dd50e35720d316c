"""The weekly bulletin (通报): built from the store, rendered to HTML/text/XLSX, delivered by email."""
