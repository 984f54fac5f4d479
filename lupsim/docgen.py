"""Reference pages generated from the code, so they cannot drift from it.

``python -m lupsim.docgen`` rewrites ``docs/scenario-schema.md`` (every field of
a scenario file, from the validation models) and ``docs/variables.md`` (every
patient variable usable in eligibility and stratification rules). A test checks
that the committed pages equal what this module generates.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["scenario_schema_markdown", "variables_markdown", "write_docs"]


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" (optional)" if type(None) in args else "")
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (tuple, list):
        inner = _type_name(args[0]) if args else "value"
        return f"list of {inner}"
    if origin is dict:
        return f"table of {_type_name(args[0])} = {_type_name(args[1])}"
    if origin is typing.Annotated:
        return _type_name(args[0])
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"table [{annotation.__name__}](#{annotation.__name__.lower()})"
        return {"float": "number", "int": "whole number", "str": "text", "bool": "true/false"}.get(
            annotation.__name__, annotation.__name__
        )
    return str(annotation)


def _limits(metadata: list[Any], text: bool = False) -> list[str]:
    """``>= 0``, ``<= 100``, ``at least 2 entries`` from constraint metadata."""
    parts = []
    for meta in metadata:
        if isinstance(meta, FieldInfo):
            parts.extend(_limits(meta.metadata, text))
            continue
        for attr, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(
                    f"{op} {value:g}" if isinstance(value, int | float) else f"{op} {value}"
                )
        min_length = getattr(meta, "min_length", None)
        if min_length:
            unit = "character" if text else "entr"
            plural = ("s" if min_length > 1 else "") if text else ("ies" if min_length > 1 else "y")
            parts.append(f"at least {min_length} {unit}{plural}")
    return parts


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """The type under ``Optional`` and ``Annotated``, with the Annotated metadata."""
    metadata: list[Any] = []
    while True:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is typing.Annotated:
            metadata.extend(args[1:])
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType) and type(None) in args:
            rest = [a for a in args if a is not type(None)]
            if len(rest) != 1:
                return annotation, metadata
            annotation = rest[0]
        else:
            return annotation, metadata


def _element_limits(annotation: Any) -> list[str]:
    """Constraints on the items of a list, the values of a table, or a union's members."""
    bare, _ = _strip(annotation)
    origin, args = get_origin(bare), get_args(bare)
    if origin is tuple and args:
        members = [args[0]] if args[-1] is Ellipsis else list(args)
    elif origin is dict:
        members = [args[1]]
    else:
        return []
    parts: list[str] = []
    for member in members:
        inner, metadata = _strip(member)
        found = _limits(metadata)
        for arg in get_args(inner):  # a union of members, e.g. a percentage or a bound
            found += _limits(_strip(arg)[1])
        parts += [p for p in found if p not in parts]
    return parts


def _kind_range(annotation: Any) -> str:
    """The range a field's type implies when it has no numeric constraint."""
    bare, _ = _strip(annotation)
    origin, args = get_origin(bare), get_args(bare)
    if origin is typing.Literal:
        return "one of the values listed"
    if _nested(bare):
        return "see table"
    if bare is bool:
        return "true or false"
    if bare is str:
        return "any text"
    if origin is tuple and args and _strip(args[0])[0] is str:
        return "any text"
    return "any number" if bare in (int, float) else "see meaning"


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _unit(model: type[BaseModel], name: str, info: FieldInfo) -> str:
    unit = _extra(info).get("unit")
    if not unit:
        raise ValueError(
            f"{model.__name__}.{name} has no unit: give its Field "
            "json_schema_extra=meta(unit) (lupsim.cohort.population.meta)"
        )
    return str(unit)


def _range(info: FieldInfo) -> str:
    """Every value a field accepts: its constraints, then what they cannot say."""
    bare, metadata = _strip(info.annotation)
    out = []
    own = _limits([*info.metadata, *metadata], text=bare is str)
    if own:
        out.append(", ".join(own))
    items = _element_limits(info.annotation)
    if items:
        out.append("each " + ", ".join(items))
    allowed = _extra(info).get("allowed")
    if allowed:
        out.append(str(allowed))
    if own == ["at least 1 character"] and not allowed:
        return "any non-empty text"
    if not out or (not items and not allowed and own and own[0].startswith("at least")):
        out.append(_kind_range(info.annotation))
    return "; ".join(out).replace("variables.md", "[variables.md](variables.md)")


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        return "(see table)"
    value = info.default
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(f"{v:g}" if isinstance(v, float) else repr(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for info in model.model_fields.values():
            for sub in _nested(info.annotation):
                visit(sub)

    visit(root)
    return seen


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        out.extend(_nested(arg))
    return out


def scenario_schema_markdown() -> str:
    """The scenario-file reference, one table per section."""
    from lupsim.scenario import Scenario

    lines = [
        "# Scenario file reference",
        "",
        "<!-- Generated by `python -m lupsim.docgen` from the validation models; do not edit. -->",
        "",
        "A scenario is a TOML file. Every table below is validated in full before anything",
        "runs: a bad file gets one message listing every problem with its path. Percentages",
        'are on 0-100; a figure published as a bound is written as a string such as `"<16"`.',
        "Rules (eligibility, stratification) use the variables of [variables.md](variables.md).",
        "Every key has a unit (`—` for text, choices, flags and tables) and the values it",
        "accepts; `each` applies to every item of a list or every value of a table.",
        "",
    ]
    for model in _models(Scenario):
        title = "scenario (top level)" if model is Scenario else model.__name__
        lines += [f"## {model.__name__}", ""]
        doc = " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())
        if doc and model is not Scenario:
            lines += [doc, ""]
        elif model is Scenario:
            lines += [f"The {title}.", ""]
        lines += [
            "| key | type | unit | default | allowed | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for name, info in model.model_fields.items():
            allowed = _range(info).replace("|", "\\|")
            lines.append(
                f"| `{name}` | {_type_name(info.annotation)} | {_unit(model, name, info)} | "
                f"{_default(info)} | {allowed} | {info.description or ''} |"
            )
        lines.append("")
    return "\n".join(lines)


def variables_markdown() -> str:
    """The patient variables usable in rules, one row each."""
    from lupsim.cohort.columns import VARIABLES

    lines = [
        "# Patient variables",
        "",
        "<!-- Generated by `python -m lupsim.docgen` from lupsim.cohort.columns; do not edit. -->",
        "",
        "Eligibility and stratification rules are written over these variables, e.g.",
        '`"selena_sledai >= 6"`, `"ana_titre >= 80 or anti_dsdna_iu >= 30"`,',
        '`"not severe_active_cns"`. A yes/no variable is used alone or after `not`;',
        "a number is compared with `>=`, `>`, `<=`, `<`, `==` or `!=`; `and` binds tighter",
        "than `or`. Text variables appear in tables but not in rules (use the yes/no",
        "variables such as `race_black` instead).",
        "",
        "| variable | kind | unit | meaning |",
        "|---|---|---|---|",
    ]
    for v in VARIABLES.values():
        lines.append(f"| `{v.name}` | {v.kind} | {v.unit} | {v.description} |")
    lines.append("")
    return "\n".join(lines)


def write_docs(root: str | Path = "docs") -> list[Path]:
    """Write the generated pages under ``root``; returns the paths written."""
    out = Path(root)
    out.mkdir(parents=True, exist_ok=True)
    pages = {
        "scenario-schema.md": scenario_schema_markdown(),
        "variables.md": variables_markdown(),
    }
    written = []
    for name, text in pages.items():
        path = out / name
        path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for p in write_docs(sys.argv[1] if len(sys.argv) > 1 else "docs"):
        print(f"wrote {p}")
