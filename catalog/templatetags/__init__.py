"""Template filters for the catalog pages."""
