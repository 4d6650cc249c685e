"""The plans `FastExecution` (api/fast_execution.py) follows: one `Step` per field of a
selection set, saying how that field is completed, and the plans of an operation kept across
requests when nothing in it depends on the request's variables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FragmentSpreadNode,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLString,
    OperationDefinitionNode,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FragmentDetails
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from api.context import PREFETCHED

# How `FastExecution` completes a field (`Step.kind`).
GENERIC, LEAF, LEAF_LIST, OBJECT, OBJECT_LIST = range(5)
FALLBACK: Any = object()  # "complete this field the generic way"


class Step:
    """One field of a selection set, and how `FastExecution` completes it. `attr` is the
    attribute it reads: Strawberry's default resolver is `getattr(source, python_name)`; a
    field with a resolver and `PREFETCHED` metadata reads the attribute that names, and runs
    its resolver (the generic way) when that holds None."""

    __slots__ = (
        "attr",
        "coerce",
        "details",
        "enum_names",
        "enum_type",
        "item_nullable",
        "item_type",
        "kind",
        "name",
        "named",
        "nullable",
        "prefetched",
        "return_type",
        "strings",
        "sub_plan",
    )

    def __init__(self, name: str, details: Any, kind: int, field: GraphQLField | None) -> None:
        self.name = name
        self.details = details
        self.kind = kind
        self.attr = ""
        self.prefetched = False
        self.sub_plan: list[Step] | None = None  # an object's, once collected
        self.coerce: Callable[[Any], Any] = no_coercion
        self.enum_type: type | None = None
        self.enum_names: dict[Any, str] | None = None
        self.strings = False  # String or ID: graphql-core gives a `str` back as it is
        if field is None:
            return
        self.return_type: GraphQLOutputType = field.type
        self.nullable = not is_non_null_type(field.type)
        inner: Any = nullable(field.type)
        self.item_type: GraphQLOutputType = inner
        self.item_nullable = True
        if isinstance(inner, GraphQLList):
            self.item_type = inner.of_type
            self.item_nullable = not is_non_null_type(inner.of_type)
            inner = nullable(inner.of_type)
        self.named: Any = inner
        if is_leaf_type(inner):
            self.coerce = inner.coerce_output_value
            self.strings = inner is GraphQLString or inner is GraphQLID
            if isinstance(inner, CustomGraphQLEnumType):
                # Strawberry's enum output scans the enum's values for every value; the name
                # of each member is remembered once computed that way.
                self.enum_type = inner.wrapped_cls
                self.enum_names = {}


def no_coercion(value: Any) -> Any:
    return FALLBACK


def nullable(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def make_step(name: str, details: Any, field: GraphQLField | None) -> Step:
    """The step for this field: `GENERIC` when it has arguments, directives or a deferred
    use, a resolver (unless prefetched), or a type the fast kinds do not cover (abstract types,
    objects with `is_type_of`, lists of lists)."""
    generic = Step(name, details, GENERIC, None)
    if field is None or field.args:
        return generic
    for detail in details:
        if detail.defer_usage is not None or detail.fragment_variable_values is not None:
            return generic
        if detail.node.directives or detail.node.arguments:
            return generic
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField):
        return generic
    metadata: Mapping[Any, Any] = definition.metadata or {}
    prefetched = metadata.get(PREFETCHED)
    if prefetched is None:
        basic = getattr(field.resolve, "_is_default", False) and definition.is_basic_field
        if not basic or definition.default_resolver is not getattr:
            return generic
    type_ = nullable(field.type)
    kind = GENERIC
    if is_leaf_type(type_):
        kind = LEAF
    elif is_object_type(type_):
        kind = OBJECT if type_.is_type_of is None else GENERIC
    elif is_list_type(type_):
        item = nullable(type_.of_type)
        if is_leaf_type(item):
            kind = LEAF_LIST
        elif is_object_type(item) and item.is_type_of is None:
            kind = OBJECT_LIST
    if kind == GENERIC or (prefetched is not None and kind not in (OBJECT_LIST, LEAF_LIST)):
        return generic
    step = Step(name, details, kind, field)
    step.attr = prefetched or definition.python_name
    step.prefetched = prefetched is not None
    return step


# Operation (a parsed document's node, the same object for every request that sends the same
# text: api/schema.py caches parsed documents) -> its plans by parent type and field nodes.
# Bounded like the document cache; each entry keeps its operation alive, so ids stay its own.
SHARED_OPERATIONS = 128
_shared: dict[int, tuple[OperationDefinitionNode, dict[tuple[Any, ...], list[Step]] | None]] = {}


def shared_plans(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDetails]
) -> dict[tuple[Any, ...], list[Step]] | None:
    """The plans kept for this operation across requests, or None when it is not
    `_plannable` (its plans are then made per request, as before)."""
    entry = _shared.get(id(operation))
    if entry is not None and entry[0] is operation:
        return entry[1]
    plans: dict[tuple[Any, ...], list[Step]] | None = (
        {} if _plannable(operation, fragments) else None
    )
    if len(_shared) >= SHARED_OPERATIONS:
        del _shared[next(iter(_shared))]  # the oldest
    _shared[id(operation)] = (operation, plans)
    return plans


def _plannable(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDetails]
) -> bool:
    """True when which fields run, and how, depends on the document alone, not on the
    request's variables: no directive anywhere (`@skip`/`@include` take variables, `@defer`
    changes the execution) and no fragment variables. Then a plan made once holds for every
    request of that operation."""
    if operation.directives:
        return False
    pending: list[Any] = [operation.selection_set]
    for fragment in fragments.values():
        if fragment.definition.directives or fragment.variable_signatures:
            return False
        pending.append(fragment.definition.selection_set)
    while pending:
        selection_set = pending.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if selection.directives:
                return False
            if isinstance(selection, FragmentSpreadNode) and getattr(selection, "arguments", None):
                return False
            pending.append(getattr(selection, "selection_set", None))
    return True
