"""Archiving decisions as code (issue 4): registries, the ten named rules, holds, retention choice.

Pure Python: transforms/rules.py wraps it in Beam, archiefstroom/commands/rules.py and
explain.py show it to people.
"""
