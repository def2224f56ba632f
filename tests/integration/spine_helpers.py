"""Reading back what the pipeline did, straight from Kafka and S3 (no pipeline code involved)."""
from __future__ import annotations

import io
import json
import time
from collections import Counter

import avro.datafile
import avro.io
import boto3
import fastavro
from kafka import KafkaConsumer, TopicPartition


def s3_client(cfg):
    return boto3.client("s3", endpoint_url=cfg.s3.endpoint_url, region_name=cfg.s3.region,
                        aws_access_key_id=cfg.s3.access_key_id, aws_secret_access_key=cfg.s3.secret_access_key)


def all_keys(cfg, prefix=""):
    c, keys, token = s3_client(cfg), [], None
    while True:
        kw = {"Bucket": cfg.s3.bucket, "Prefix": prefix}
        if token:
            kw["ContinuationToken"] = token
        page = c.list_objects_v2(**kw)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


def body(cfg, key) -> bytes:
    return s3_client(cfg).get_object(Bucket=cfg.s3.bucket, Key=key)["Body"].read()


def archived_records(cfg) -> dict[str, list[dict]]:
    """object key -> records, read with fastavro."""
    return {k: list(fastavro.reader(io.BytesIO(body(cfg, k))))
            for k in all_keys(cfg, cfg.s3.prefix + "/") if k.endswith(".avro")}


def read_with_reference_avro(data: bytes) -> list[dict]:
    with avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader()) as r:
        return list(r)


def tags(cfg, key) -> dict[str, str]:
    t = s3_client(cfg).get_object_tagging(Bucket=cfg.s3.bucket, Key=key)["TagSet"]
    return {x["Key"]: x["Value"] for x in t}


def ledger_entries(cfg) -> list[dict]:
    out = []
    for k in all_keys(cfg, "_ledger/"):
        out += json.loads(body(cfg, k))["entries"]
    return out


def topic_messages(cfg, topic, timeout_s=10.0) -> list:
    c = KafkaConsumer(bootstrap_servers=cfg.kafka.bootstrap_servers, enable_auto_commit=False,
                      consumer_timeout_ms=int(timeout_s * 1000))
    parts = c.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in parts]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    msgs = list(c)
    c.close()
    return msgs


def counts_by_id(records_by_key) -> Counter:
    return Counter(r["event"]["event_id"] for recs in records_by_key.values() for r in recs)


def wait_for_ledgers(cfg, n: int, timeout_s: float, proc, log_path, poll_s: float = 0.1) -> None:
    """Wait until the run in `proc` has committed `n` ledgers (it is mid-stream: a crash
    test kills it then); fail with the run's log if it does not within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while len(all_keys(cfg, "_ledger/")) < n and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(poll_s)
    assert len(all_keys(cfg, "_ledger/")) >= n, log_path.read_text()[-3000:]
