"""Assessing a social platform before an organisation uses it (issue 17, part 2): the facts, the
DUTO criteria, and the verdict per route. Pure: no files, no network (the loader is ground/registries.py)."""
