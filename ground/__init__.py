"""The ground layer: configuration and the clients of the systems we talk to.

Everything above stands on it (the archive writer, transforms, pipelines, the CLI);
it stands only on `core` (whose settings dataclasses the loader builds) and `schemas`.
  settings.py    the one typed YAML loader (file, line and field in every error)
  config.py      the main configuration (archiefstroom.yaml) and `load()`
  registries.py  the rules' registries and the pseudonymiser's key material, from files
  kafka.py       the one Kafka client factory (producers, consumers, admin, commits)
  s3.py          the one S3 client factory and the object store calls
"""
