"""Read scenario YAML safely and turn validation errors into precise locations.

YAML is parsed with a safe loader that refuses duplicate keys and tags; every node's line is
indexed so an error can name ``file:line at sides.us.chambers.house.blocs.dem.seats``.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pydantic
import yaml

from riskmodel.errors import ScenarioError, did_you_mean, format_location
from riskmodel.spec.schema import PROCEDURE_KEYS, THRESHOLD_FORMS, Scenario

__all__ = ["LinePath", "error_from_validation", "line_for", "located", "named_location", "read_yaml"]

LinePath = tuple[str | int, ...]
"""A location inside a YAML document: keys and list indices."""


# --------------------------------------------------------------------------- YAML reading


MAX_NODES = 200_000
MAX_DEPTH = 64


# LibYAML's parser when PyYAML was built with it (its wheels are): the scenario is composed in C,
# about four times faster than in Python. LibYAML refuses documents nested over 1,000 levels, so
# its recursive composer stays shallow; _check_size applies the scenario's own MAX_DEPTH after.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe loader that refuses duplicate and non-text keys and documents nested too deeply.

    ``compose_node`` is called only by PyYAML's pure-Python composer (without LibYAML).
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"the document is nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise yaml.constructor.ConstructorError(
                None, None, "merge keys (<<) are not supported; write the keys out", key_node.start_mark
            )
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a key must be text, got {type(key).__name__} {key!r} (quote it if you meant text)",
                key_node.start_mark,
            )
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


def _check_size(root: yaml.Node | None, file: str) -> None:
    """Refuse documents nested too deeply or expanding (through aliases) to too many nodes.

    Sizes are memoised per node, so a chain of aliases is measured in linear time.
    """
    if root is None:
        return
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, expanded = stack.pop()
        if id(node) in sizes:
            continue
        if depth > MAX_DEPTH:
            raise ScenarioError(
                f"the document is nested more than {MAX_DEPTH} levels deep",
                file=file,
                line=node.start_mark.line + 1,
            )
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        if not expanded and children:
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(child), 1) for child in children)
        if total > MAX_NODES:
            raise ScenarioError(
                f"the document expands to more than {MAX_NODES:,} values (through YAML anchors and "
                "aliases?); scenario files must stay small",
                file=file,
                line=node.start_mark.line + 1,
            )
        sizes[id(node)] = total


def read_yaml(text: str, file: str) -> tuple[Any, dict[LinePath, int]]:
    """Parse YAML text safely; return the data and the line of every node."""
    try:
        # one parse: the data are constructed from the composed (and size-checked) node tree
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            _check_size(node, file)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        if "could not determine a constructor" in problem:
            problem = f"{problem}; tags such as !!python are not allowed in scenario files"
        raise ScenarioError(f"YAML error: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {exc}", file=file) from None
    except RecursionError:
        raise ScenarioError(
            f"the document is nested too deeply (limit {MAX_DEPTH} levels)", file=file
        ) from None
    lines = dict(_line_index(node))
    return data, lines


# --------------------------------------------------------------------------- locations


def _resolve(raw: Any, loc: Sequence[str | int], *, missing_key: bool) -> LinePath:
    """Follow a pydantic error location through the raw data.

    Union branch tags in the location (``number``, ``distribution``, ``normal`` ...) are not
    keys of the file and are skipped. When the error is about a key that is absent
    (``missing_key``), the last part is kept although the file does not have it.
    """
    path: list[str | int] = []
    node = raw
    for i, part in enumerate(loc):
        in_mapping = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            node = node[part]
            path.append(part)
        elif part == "not_" and isinstance(node, Mapping) and "not" in node:
            node = node["not"]
            path.append("not")
        elif missing_key and i == len(loc) - 1 and isinstance(node, Mapping):
            path.append(part)
    return tuple(path)


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


def error_from_validation(exc: pydantic.ValidationError, raw: Any, file: str, lines: dict) -> ScenarioError:
    """The single most specific problem of a pydantic error, located in the file.

    Unions of the schema use discriminators, so errors come from the form the user wrote;
    among several errors the deepest location wins.
    """
    errors = exc.errors(include_url=False)

    def depth(err: Any) -> tuple[int, int]:
        missing = err["type"] == "missing"
        return len(_resolve(raw, err["loc"], missing_key=missing)), -errors.index(err)

    best = max(errors, key=depth)
    kind = best["type"]
    path = _resolve(raw, best["loc"], missing_key=kind == "missing")
    message = str(best["msg"]).removeprefix("Value error, ")
    context = best.get("ctx") or {}
    if kind == "extra_forbidden":
        key = path[-1] if path else best["loc"][-1]
        model = _model_at(path[:-1], raw)
        allowed = sorted(model.model_fields) if model else []
        allowed = ["not" if a == "not_" else a for a in allowed]
        message = f"unknown key '{key}'{did_you_mean(str(key), allowed)}"
        if allowed:
            message += f"; expected one of: {', '.join(allowed)}"
    elif kind == "missing":
        message = f"missing required key '{path[-1] if path else best['loc'][-1]}'"
    elif kind == "union_tag_invalid":
        tag = str(context.get("tag", ""))
        expected = [t.strip(" '") for t in str(context.get("expected_tags", "")).split(",")]
        message = f"unknown {context.get('discriminator', 'tag').strip(chr(39))} '{tag}'"
        message += f"{did_you_mean(tag, expected)}; expected one of: {', '.join(expected)}"
    elif kind == "procedure_form":
        node = _node_at(raw, path)
        if isinstance(node, Mapping) and len(node) == 1:
            key = str(next(iter(node)))
            message = f"unknown procedure key '{key}'{did_you_mean(key, PROCEDURE_KEYS)}; {message}"
    elif kind == "finite_number":
        message = "expected a finite number (NaN and infinity are not allowed)"
    if path and path[-1] == "threshold" and kind != "threshold_form":
        message += f"; a threshold is {THRESHOLD_FORMS}"
    line = line_for(lines, path)
    return ScenarioError(message, file=file, location=named_location(raw, path), line=line)


def _node_at(raw: Any, path: LinePath) -> Any:
    node = raw
    for part in path:
        node = node[part]
    return node


def line_for(lines: Mapping[LinePath, int], path: LinePath) -> int | None:
    """Line of the deepest node of ``path`` that has one."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


def _path_of(raw: Any, location: str) -> LinePath:
    """The path of a dotted location (``evidence.rollcalls[0].side``, ``sides.us.chambers``)."""
    path: list[str | int] = []
    node = raw
    for token in re.findall(r"\[(\d+)\]|([^.\[\]]+)", location):
        index, key = token
        if index:
            part: str | int = int(index)
        elif isinstance(node, list):
            # a list item named by its 'name' (as named_location writes it)
            found = [
                i for i, item in enumerate(node) if isinstance(item, Mapping) and item.get("name") == key
            ]
            if not found:
                break
            part = found[0]
        else:
            part = key
        in_mapping = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_mapping or in_list):
            break
        node = node[part]
        path.append(part)
    return tuple(path)


def located(error: ScenarioError) -> ScenarioError:
    """``error`` with the line of its location filled in from its file, when it lacks one.

    Checks made after loading (evidence references, say) know the place in the scenario but
    not the line; the file is read again to find it. Any failure leaves the error unchanged.
    """
    if error.line is not None or not error.location or not error.file:
        return error
    try:
        path = Path(error.file)
        if not path.is_file() or path.stat().st_size > 10_000_000:
            return error
        raw, lines = read_yaml(path.read_text(encoding="utf-8"), error.file)
        line = line_for(lines, _path_of(raw, error.location))
    except (ScenarioError, OSError, ValueError):
        return error
    if line is None:
        return error
    fixed = type(error).__new__(type(error))
    ScenarioError.__init__(fixed, error.message, file=error.file, location=error.location, line=line)
    return fixed
