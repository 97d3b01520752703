"""Read scenario YAML safely and turn validation errors into precise locations.

YAML is parsed with a safe loader that refuses duplicate keys and tags; every node's line is
indexed so an error can name ``file:line at sides.us.chambers.house.blocs.dem.seats``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pydantic
import yaml

from riskmodel.errors import ScenarioError, did_you_mean, format_location
from riskmodel.schema import Scenario

__all__ = ["LinePath", "error_from_validation", "line_for", "named_location", "read_yaml"]

LinePath = tuple[str | int, ...]
"""A location inside a YAML document: keys and list indices."""


# --------------------------------------------------------------------------- YAML reading


class _Loader(yaml.SafeLoader):
    """Safe loader that refuses duplicate keys (YAML would silently keep the last)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key '{key}' (first given on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return dict(loader.construct_mapping(node, deep=deep))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_index(node: yaml.Node | None, path: LinePath = ()) -> Iterator[tuple[LinePath, int]]:
    """Yield (path, 1-based line) for every node of a composed YAML document."""
    if node is None:
        return
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            yield (*path, key), key_node.start_mark.line + 1
            for sub_path, line in _line_index(value_node, (*path, key)):
                if sub_path != (*path, key):
                    yield sub_path, line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _line_index(item, (*path, index))


def read_yaml(text: str, file: str) -> tuple[Any, dict[LinePath, int]]:
    """Parse YAML text safely; return the data and the line of every node."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        if "could not determine a constructor" in problem:
            problem = f"{problem}; tags such as !!python are not allowed in scenario files"
        raise ScenarioError(f"YAML error: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {exc}", file=file) from None
    lines = dict(_line_index(node))
    return data, lines


# --------------------------------------------------------------------------- locations


def _resolve(raw: Any, loc: Sequence[str | int]) -> tuple[LinePath, bool]:
    """Follow a pydantic error location through the raw data.

    Union branch tags in the location (``float``, ``Fixed``, ``normal`` ...) are skipped.
    Returns the path of keys/indices that exist, and whether the last part was missing.
    """
    path: list[str | int] = []
    node = raw
    missing_last = False
    for i, part in enumerate(loc):
        in_mapping = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            node = node[part]
            path.append(part)
        elif part == "not_" and isinstance(node, Mapping) and "not" in node:
            node = node["not"]
            path.append("not")
        elif i == len(loc) - 1 and isinstance(node, Mapping):
            path.append(part)
            missing_last = True
    return tuple(path), missing_last


def named_location(raw: Any, path: LinePath) -> str:
    """Replace list indices by the item's ``name`` where it has one: ``sides.us.chambers``."""
    parts: list[str | int] = []
    node = raw
    for part in path:
        child = None
        if isinstance(node, Mapping):
            child = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            child = node[part]
        if isinstance(part, int) and isinstance(child, Mapping) and isinstance(child.get("name"), str):
            parts.append(child["name"])
        else:
            parts.append(part)
        node = child
    return format_location(parts)


def _model_at(path: LinePath, raw: Any) -> type[pydantic.BaseModel] | None:
    """The schema model describing the mapping at ``path`` (for 'did you mean' on keys)."""
    node_type: Any = Scenario
    node = raw
    for part in path:
        node_type = _pick_model(node_type, node)
        if isinstance(node_type, type) and issubclass(node_type, pydantic.BaseModel):
            info = node_type.model_fields.get(str(part))
            if info is None:
                info = next((f for f in node_type.model_fields.values() if f.alias == part), None)
            if info is None:
                return None
            node_type = info.annotation
        else:
            origin = typing.get_origin(node_type)
            args = typing.get_args(node_type)
            if origin is list and args:
                node_type = args[0]
            elif origin is dict and len(args) == 2:
                node_type = args[1]
            else:
                return None
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            node = node[part]
        else:
            node = None
    model = _pick_model(node_type, node)
    return model if isinstance(model, type) and issubclass(model, pydantic.BaseModel) else None


def _pick_model(node_type: Any, node: Any) -> Any:
    """Among the members of a union, the model whose fields best match the raw mapping."""
    while typing.get_origin(node_type) is typing.Annotated:
        node_type = typing.get_args(node_type)[0]
    origin = typing.get_origin(node_type)
    if origin not in (typing.Union, types.UnionType):
        return node_type
    candidates = []
    for arg in typing.get_args(node_type):
        arg = _pick_model(arg, node)
        if isinstance(arg, type) and issubclass(arg, pydantic.BaseModel):
            candidates.append(arg)
        elif typing.get_origin(arg) in (list, dict):
            if isinstance(node, list) and typing.get_origin(arg) is list:
                return arg
            candidates.append(arg)
    if not candidates:
        return node_type
    if isinstance(node, Mapping):

        def overlap(model: Any) -> int:
            if not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)):
                return 0
            names = set(model.model_fields) | {f.alias for f in model.model_fields.values()}
            return len(names & set(node))

        candidates.sort(key=overlap, reverse=True)
    return candidates[0]


_PRIOR_HINT = (
    "a prior is a number, {value: x}, {dist: normal|half_normal|log_normal|truncated_normal|"
    "beta|gamma|uniform, ...parameters} or {between: [lo, hi], mass: 0.9}"
)


def error_from_validation(exc: pydantic.ValidationError, raw: Any, file: str, lines: dict) -> ScenarioError:
    """The single most specific problem of a pydantic error, located in the file."""
    errors = exc.errors(include_url=False)

    def score(err: Any) -> tuple[int, int]:
        path, missing = _resolve(raw, err["loc"])
        node: Any = raw
        for part in path[:-1] if missing else path:
            node = node[part]
        bonus = 0
        tags = {str(p) for p in err["loc"]}
        if isinstance(node, Mapping) and (
            ("dist" in node and node.get("dist") in tags)
            or ("between" in node and "Elicited" in tags)
            or ("value" in node and "Fixed" in tags)
        ):
            bonus = 3  # the union branch the user evidently meant
        if err["type"] in ("float_type", "float_parsing", "model_type", "dict_type", "int_type"):
            bonus -= 1
        if err["type"] == "union_tag_invalid":
            bonus += 2
        return len(path) + bonus, -errors.index(err)

    best = max(errors, key=score)
    path, _ = _resolve(raw, best["loc"])
    message = best["msg"]
    tags = {str(p) for p in best["loc"]}
    if best["type"] == "extra_forbidden":
        key = path[-1] if path else best["loc"][-1]
        model = _model_at(path[:-1], raw)
        allowed = sorted(model.model_fields) if model else []
        allowed = ["not" if a == "not_" else a for a in allowed]
        message = f"unknown key '{key}'{did_you_mean(str(key), allowed)}"
        if allowed:
            message += f"; expected one of: {', '.join(allowed)}"
    elif best["type"] == "missing":
        message = f"missing required key '{path[-1] if path else best['loc'][-1]}'"
    elif best["type"] == "union_tag_invalid":
        message = f"{message}; {_PRIOR_HINT}"
    elif tags & {"Fixed", "Elicited", "float"} or best["type"] == "union_tag_not_found":
        message = f"{message} ({_PRIOR_HINT})"
    if best["type"] in ("finite_number",):
        message = "expected a finite number (NaN and infinity are not allowed)"
    line = line_for(lines, path)
    return ScenarioError(message, file=file, location=named_location(raw, path), line=line)


def line_for(lines: Mapping[LinePath, int], path: LinePath) -> int | None:
    """Line of the deepest node of ``path`` that has one."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None
