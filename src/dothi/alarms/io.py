"""Rules as YAML: import (every problem reported at once), export, and the shipped defaults."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

import yaml

from dothi.alarms.schemas import RuleDefinition, parse_rule, rule_label
from dothi.errors import InvalidInput

DEFAULTS = "defaults.yaml"


def _kind_of(value: object) -> str:
    """How a YAML value is named in messages: a list, a mapping, a string, …"""
    names = {list: "a list", dict: "a mapping", str: "a string", bool: "true or false"}
    if value is None:
        return "nothing"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _document(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidInput(f"YAML syntax error{where}: {error.problem}") from None
    except yaml.YAMLError as error:
        raise InvalidInput(f"YAML syntax error: {error}") from None


def _items(document: Any) -> list[Any]:
    """The list of rules: the document itself, or its `rules`; nothing in an empty document."""
    if document is None:
        return []
    if isinstance(document, dict):
        extra = sorted(str(key) for key in document if key != "rules")
        if extra or not isinstance(document.get("rules"), list):
            found = f" (found {', '.join(extra)})" if extra else ""
            raise InvalidInput(f"expected a list of rules, or a mapping with only `rules`{found}")
        return list(document["rules"])
    if not isinstance(document, list):
        raise InvalidInput(f"expected a list of rules, got {_kind_of(document)}")
    return document


def load_rules_yaml(text: str) -> list[RuleDefinition]:
    """The rules of a YAML document; InvalidInput naming every faulty rule by position and code."""
    rules: list[RuleDefinition] = []
    problems: list[str] = []
    first_with: dict[str, int] = {}
    for position, item in enumerate(_items(_document(text)), 1):
        if not isinstance(item, dict):
            problems.append(f"rule {position}: expected a mapping of fields, got {_kind_of(item)}")
            continue
        try:
            rule = parse_rule(item, position=position)
        except InvalidInput as error:
            problems.append(error.message)
            continue
        if rule.code in first_with:
            where = rule_label(item, position)
            problems.append(f"{where}: code already used by rule {first_with[rule.code]}")
        first_with.setdefault(rule.code, position)
        rules.append(rule)
    if problems:
        raise InvalidInput("\n".join(problems))
    return rules


def dump_rules_yaml(rules: Sequence[RuleDefinition]) -> str:
    """The rules as a YAML document that `load_rules_yaml` reads back to the same rules."""
    document = {"rules": [rule.model_dump(mode="json", exclude_none=True) for rule in rules]}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def default_rules() -> list[RuleDefinition]:
    """The rules a new deployment starts with (the demo's), from the bundled defaults.yaml."""
    text = resources.files("dothi.alarms").joinpath(DEFAULTS).read_text(encoding="utf-8")
    return load_rules_yaml(text)
