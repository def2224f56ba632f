"""The catalog: an index of the archive for archivists (search, threads, versions) and for the
stream's own questions (webcare feedback, explain), so nothing scans the ledgers.

  index.py   the tables and questions, one code for SQLite (FTS5) and PostgreSQL (`dutch`, GIN)
  feed.py    indexing a committed batch from its ledger and objects; following the sink's
             announcements (`catalog run`, or a thread of `run`); rebuilding from the bucket
  read.py    reading records through the index: lookup (explain, feedback), history, one record
The Avro objects in S3 stay the source of truth: everything here is rebuilt from them.
What an entry holds and what a query means is core.catalog (plain Python).
"""
