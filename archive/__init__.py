"""The archive in S3: one writer per topic-partition, and the archivists' read side.

  writer.py     TopicPartitionWriter: rotation, object names, the write order and the commit
  ledger.py     the per-batch ledger (every offset's fate) and its entries
  seen.py       archived ids per creation day: a re-sent event is a duplicate, not a second record
  sides.py      the side topics a batch feeds before its commit (dead letter, quarantine,
                handover, held, versions)
  format.py     the Avro container format of archive records (schemas/archive_record.avsc)
  storage.py    the object store calls (S3 with tags and Object Lock)
  read.py       the bucket's read side (ls, cat, ledgers, summary); finding records is the
                catalog's (archiefstroom.catalog), not on the stream's path
The object layout itself is core.layout; which items form a batch is core.batching.
"""
