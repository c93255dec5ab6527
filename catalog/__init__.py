"""The product catalog: fetched from DummyJSON, validated, cached in the database and media."""
