"""Schema, migrations and queries. Returns records, raises DomainError."""
