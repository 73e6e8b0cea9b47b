"""YAML syntax errors in plain words, on the line where the mistake is.

PyYAML names the token it tripped on ("found character '\\t' that cannot start any token", "expected
<block end>, but found '<block mapping start>'"), often a line after the mistake. A plan author needs
what is wrong, where, and how to write it instead.
"""

from __future__ import annotations

import re

import yaml

_RESERVED = "@`%&*!|>"  # characters that cannot start a plain value: YAML gives each a meaning
_FIELD = re.compile(r"^(?P<lead>\s*(?:-\s+)*)(?P<key>[^\s:#'\"{}\[\],][^:#]*?)\s+(?P<rest>\S.*)$")


def explain(error: yaml.MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """The line (1-based) of the mistake behind `error` and what to do about it."""
    lines = text.splitlines()
    problem, context = error.problem_mark, error.context_mark
    at = (problem.line, problem.column) if problem else None
    reason, where = error.problem or "", error.context or ""
    explainers = (_tab, _reserved, _missing_colon, _unclosed, _value_not_allowed, _list_item, _indentation)
    for explainer in explainers:
        found = explainer(lines, at, context, reason, where)
        if found:
            return found[0] + 1, found[1]
    mark = problem or context
    if mark is None:
        return None, f"YAML syntax error: {reason or where or 'not valid YAML'}"
    shown = _line(lines, mark.line).strip()
    return (
        mark.line + 1,
        f"YAML cannot read '{shown[:80]}' here ({reason or where}); check its colons and indentation",
    )


def _line(lines: list[str], index: int) -> str:
    return lines[index] if 0 <= index < len(lines) else ""


def _tab(lines, at, context, reason, where):
    if not at or "'\\t'" not in reason:
        return None
    text = _line(lines, at[0])
    if "\t" in text[: len(text) - len(text.lstrip())]:
        return at[0], "starts with a tab: YAML indents with spaces; replace the tab with spaces"
    return at[0], "holds a tab where YAML expects spaces; replace it with spaces"


def _reserved(lines, at, context, reason, where):
    alias = "undefined alias" in reason or "scanning an alias" in where or "scanning an anchor" in where
    character = re.search(r"found character '(.)' that cannot start any token", reason)
    if not at or not (character or alias):
        return None
    mark = context if alias and context else None
    row, column = (mark.line, mark.column) if mark else at
    word = re.split(r"[,}\]]|\s#", _line(lines, row)[column:], maxsplit=1)[0].strip()
    first = character.group(1) if character else (word[:1] or "*")
    if first not in _RESERVED:
        return None
    if first == "@":
        return row, f"a value cannot start with @: write {word[1:]}, or quote it: '{word}'"
    return row, f"a value cannot start with {first}: quote it: '{word}'"


def _missing_colon(lines, at, context, reason, where):
    if "could not find expected ':'" not in reason or not context:
        return None
    return context.line, _no_colon(_line(lines, context.line))


def _no_colon(text: str) -> str:
    shown = text.strip()
    if re.search(r":\S", shown) and ": " not in shown:
        key, _, value = shown.partition(":")
        return f"'{shown}' needs a space after the colon: write '{key}: {value}'"
    match = _FIELD.match(text)
    if match and not shown.endswith(":"):
        lead = match["lead"].strip()
        fix = f"{lead + ' ' if lead else ''}{match['key']}: {match['rest']}"
        return f"'{shown}' has no colon after its field's name: write '{fix}'"
    return f"'{shown}' has no colon: write '{shown}:'"


def _unclosed(lines, at, context, reason, where):
    if not context:
        return None
    if "quoted scalar" in where:
        return context.line, "a quote opened on this line is never closed: end the value with the same quote"
    opened = re.search(r"while parsing a flow (mapping|sequence)", where)
    if opened:
        bracket, closing = ("{", "}") if opened.group(1) == "mapping" else ("[", "]")
        return context.line, (
            f"the {bracket} opened on this line is not closed on it: end it with {closing} "
            "(and quote a value that holds a comma or a colon)"
        )
    return None


def _value_not_allowed(lines, at, context, reason, where):
    if not at or "mapping values are not allowed here" not in reason:
        return None
    text = _line(lines, at[0])
    before = text[: at[1]]
    if ": " in before:  # a second `: ` inside one value
        key, _, value = text.strip().partition(": ")
        return at[0], f"a value holding ': ' must be quoted: write {key}: \"{value}\""
    above = _previous(lines, at[0])
    if above is not None:
        prior = _line(lines, above)
        if ":" not in prior.split("#", 1)[0] or re.search(r":\S", prior) and ": " not in prior:
            return above, _no_colon(prior)
        return at[0], (
            f"is indented further than line {above + 1}, whose field already has a value: "
            f"start it in the same column ({_column(prior)} spaces)"
        )
    return None


def _list_item(lines, at, context, reason, where):
    if not at or "sequence entries are not allowed here" not in reason:
        return None
    return at[0], (
        "a '- ' item cannot follow a value on the same line, nor sit under a field that has a value: "
        "put each item on a line of its own under a field that ends with ':'"
    )


def _indentation(lines, at, context, reason, where):
    if not at or "expected <block end>" not in reason:
        return None
    text = _line(lines, at[0])
    if "found '-'" in reason:
        return at[0], (
            f"starts a list item ('{text.strip()}') among fields (name: value): a section is a list of "
            "'- ' items or a set of fields, not both; check this line's indentation"
        )
    above = _previous(lines, at[0])
    spaces = len(text) - len(text.lstrip(" "))
    if above is None or spaces == _column(_line(lines, above)):
        return None
    return at[0], (
        f"is indented by {spaces} space{'s' if spaces != 1 else ''}, unlike line {above + 1} above it "
        f"({_column(_line(lines, above))} spaces): fields of one section start in the same column"
    )


def _previous(lines: list[str], index: int) -> int | None:
    """The nearest line above `index` that holds more than a comment."""
    for i in range(index - 1, -1, -1):
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            return i
    return None


def _column(text: str) -> int:
    """Where a line's field starts: after its indentation and any list dashes."""
    match = re.match(r"^(\s*(?:-\s+)*)", text)
    return len(match.group(1)) if match else 0
