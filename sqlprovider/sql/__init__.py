"""The SQL front end: what happens to a statement's text before SQLite plans it.

`names` rewrites three-part table names, `nullkeys` refuses literal NULL keys, `show` turns
StackQL's SHOW/DESCRIBE into queries over the metadata tables, and `apsw_errors` maps apsw's own
exceptions onto the PEP 249 tree. Imports `errors` and `spec` only.
"""
