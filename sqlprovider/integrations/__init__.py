"""Other tools' conventions on top of DB-API: the SQLAlchemy dialect and SQLite-file export.

Imports `dbapi` and below, never `cli`.
"""
