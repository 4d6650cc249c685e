"""`FastExecution`: graphql-core's executor with a shorter way for the fields a page of
after-sales is made of, passed to Strawberry as its `execution_context_class` (api/schema.py).

It leans on internals of graphql-core (`execute_fields`, `collect_subfields`,
`handle_field_error`, grouped field sets and defer usages) and of Strawberry (its default
resolver marker, `GraphQLCoreConverter.DEFINITION_BACKREF`, `CustomGraphQLEnumType`), which is
why pyproject.toml pins both to the minor versions it was written against. Turned off with
`GRAPHQL_FAST_EXECUTION=off` (docs/configuration.md): the schema then runs graphql-core's own
executor, which answers the same. tests/unit/test_fast_execution.py holds the two to the same
data and errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from graphql import (
    FragmentSpreadNode,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    OperationDefinitionNode,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from api.context import PREFETCHED

# How `FastExecution` completes a field (`_Step.kind`).
_GENERIC, _LEAF, _LEAF_LIST, _OBJECT, _OBJECT_LIST = range(5)
_FALLBACK: Any = object()  # "complete this field the generic way"


class _Step:
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
        self.sub_plan: list[_Step] | None = None  # an object's, once collected
        self.coerce: Callable[[Any], Any] = _no_coercion
        self.enum_type: type | None = None
        self.enum_names: dict[Any, str] | None = None
        self.strings = False  # String or ID: graphql-core gives a `str` back as it is
        if field is None:
            return
        self.return_type: GraphQLOutputType = field.type
        self.nullable = not is_non_null_type(field.type)
        inner: Any = _nullable(field.type)
        self.item_type: GraphQLOutputType = inner
        self.item_nullable = True
        if isinstance(inner, GraphQLList):
            self.item_type = inner.of_type
            self.item_nullable = not is_non_null_type(inner.of_type)
            inner = _nullable(inner.of_type)
        self.named: Any = inner
        if is_leaf_type(inner):
            self.coerce = inner.coerce_output_value
            self.strings = inner is GraphQLString or inner is GraphQLID
            if isinstance(inner, CustomGraphQLEnumType):
                # Strawberry's enum output scans the enum's values for every value; the name
                # of each member is remembered once computed that way.
                self.enum_type = inner.wrapped_cls
                self.enum_names = {}


def _no_coercion(value: Any) -> Any:
    return _FALLBACK


def _nullable(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _step(name: str, details: Any, field: GraphQLField | None) -> _Step:
    """The step for this field: `_GENERIC` when it has arguments, directives or a deferred
    use, a resolver (unless prefetched), or a type the fast kinds do not cover (abstract types,
    objects with `is_type_of`, lists of lists)."""
    generic = _Step(name, details, _GENERIC, None)
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
    type_ = _nullable(field.type)
    kind = _GENERIC
    if is_leaf_type(type_):
        kind = _LEAF
    elif is_object_type(type_):
        kind = _OBJECT if type_.is_type_of is None else _GENERIC
    elif is_list_type(type_):
        item = _nullable(type_.of_type)
        if is_leaf_type(item):
            kind = _LEAF_LIST
        elif is_object_type(item) and item.is_type_of is None:
            kind = _OBJECT_LIST
    if kind == _GENERIC or (prefetched is not None and kind != _OBJECT_LIST):
        return generic
    step = _Step(name, details, kind, field)
    step.attr = prefetched or definition.python_name
    step.prefetched = prefetched is not None
    return step


# Operation (a parsed document's node, the same object for every request that sends the same
# text: api/schema.py caches parsed documents) -> its plans by parent type and field nodes.
# Bounded like the document cache; each entry keeps its operation alive, so ids stay its own.
SHARED_OPERATIONS = 128
_shared: dict[int, tuple[OperationDefinitionNode, dict[tuple[Any, ...], list[_Step]] | None]] = {}


def _shared_plans(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDetails]
) -> dict[tuple[Any, ...], list[_Step]] | None:
    """The plans kept for this operation across requests, or None when it is not
    `_plannable` (its plans are then made per request, as before)."""
    entry = _shared.get(id(operation))
    if entry is not None and entry[0] is operation:
        return entry[1]
    plans: dict[tuple[Any, ...], list[_Step]] | None = (
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


class FastExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with a shorter way for the fields that make up a page: plain
    attributes of Strawberry objects (no resolver, arguments or directives), lists of them,
    nested objects, and the lists a page resolver prefetched (`PREFETCHED`).

    Such a field is read and completed here, without a resolve-info object, Strawberry's
    resolver wrapper, or graphql-core's completion dispatch per value; on a page of 50 that is
    nearly all of its ~2,000 fields. Whatever is unusual about a value (None where the type
    forbids it, an exception, an awaitable, a value its scalar refuses) sends that field down
    graphql-core's own path before anything of it was done, and that path produces the data
    and errors it always did. So do fields with resolvers, arguments or directives, and whole
    executions with middleware (a Strawberry extension implementing `resolve`) or `@defer`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._fast = not (manager and getattr(manager, "middlewares", None))
        # grouped field set's id -> (the set, kept alive so the id stays its own; its steps)
        self._plans: dict[int, tuple[Any, list[_Step]]] = {}
        # The operation's plans kept across requests, when it is `_plannable` (None if not).
        self._shared = _shared_plans(self.operation, self.fragments) if self._fast else None

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Step]:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1]
        shared = self._shared
        key: tuple[Any, ...] = ()
        plan = None
        if shared is not None:
            # The same fields of the same document nodes: the same steps as last time.
            key = (
                parent_type.name,
                *(id(d.node) for details in grouped_field_set.values() for d in details),
            )
            plan = shared.get(key)
        if plan is None:
            fields = parent_type.fields
            plan = [
                _step(name, details, fields.get(details[0].node.name.value))
                for name, details in grouped_field_set.items()
            ]
            if shared is not None:
                shared[key] = plan
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if position_context is not None or not self._fast:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plan = self._plan(parent_type, grouped_field_set)
        return self._run(plan, parent_type, source_value, path)

    def _run(
        self,
        plan: list[_Step],
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
    ) -> Any:
        """graphql-core's `execute_fields`, each field completed by its step."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for step in plan:
                kind = step.kind
                result = _FALLBACK
                if kind == _LEAF:
                    try:
                        value = getattr(source, step.attr)
                    except Exception:
                        value = _FALLBACK
                    if value is None:
                        result = None if step.nullable else _FALLBACK
                    elif step.strings and type(value) is str:
                        result = value
                    elif value is not _FALLBACK:
                        names = step.enum_names
                        if names is not None and type(value) is step.enum_type:
                            result = names.get(value, _FALLBACK)
                        if result is _FALLBACK:
                            result = self._leaf(step, value)
                elif kind != _GENERIC:
                    result = self._complete(step, parent_type, source, path)
                if result is _FALLBACK:
                    result = self.execute_field(
                        parent_type,
                        source,
                        step.details,
                        Path(path, step.name, parent_type.name),
                        None,
                    )
                    if result is Undefined:
                        continue
                    if is_awaitable(result):
                        awaitable_fields.append(step.name)
                elif kind >= _OBJECT and is_awaitable(result):
                    awaitable_fields.append(step.name)
                results[step.name] = result
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _leaf(self, step: _Step, value: Any) -> Any:
        """A leaf value coerced, or `_FALLBACK` for graphql-core's own completion to report."""
        if value is Undefined or isinstance(value, Exception):
            return _FALLBACK
        try:
            coerced = step.coerce(value)
        except Exception:
            return _FALLBACK
        if coerced is None or coerced is Undefined:
            return _FALLBACK
        if step.enum_names is not None and type(value) is step.enum_type:
            step.enum_names[value] = coerced
        return coerced

    def _complete(
        self, step: _Step, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        """A list or object field completed, or `_FALLBACK` (nothing of it done yet)."""
        try:
            value = getattr(source, step.attr)
        except Exception:
            return _FALLBACK
        if value is None or value is Undefined:
            return None if step.nullable and not step.prefetched else _FALLBACK
        if isinstance(value, Exception) or self.is_awaitable(value):
            return _FALLBACK
        kind = step.kind
        if kind == _OBJECT:
            return self._object(
                step, value, step.return_type, Path(path, step.name, parent_type.name)
            )
        if type(value) is not list and type(value) is not tuple:
            return _FALLBACK
        if kind == _LEAF_LIST:
            completed: list[Any] = []
            for item in value:
                if item is None:
                    if not step.item_nullable:
                        return _FALLBACK
                    completed.append(None)
                    continue
                names = step.enum_names
                coerced = _FALLBACK
                if names is not None and type(item) is step.enum_type:
                    coerced = names.get(item, _FALLBACK)
                if coerced is _FALLBACK:
                    coerced = self._leaf(step, item)
                    if coerced is _FALLBACK:
                        return _FALLBACK
                completed.append(coerced)
            return completed
        # _OBJECT_LIST: graphql-core's complete_iterable_value / complete_list_item_value.
        is_awaitable = self.is_awaitable
        for item in value:
            if item is None:
                if not step.item_nullable:
                    return _FALLBACK
            elif item is Undefined or isinstance(item, Exception) or is_awaitable(item):
                return _FALLBACK
        field_path = Path(path, step.name, parent_type.name)
        completed = []
        pending: list[int] = []
        try:
            for index, item in enumerate(value):
                if item is None:
                    completed.append(None)
                    continue
                sub = self._object(step, item, step.item_type, field_path.add_key(index, None))
                if is_awaitable(sub):
                    pending.append(index)
                completed.append(sub)
        except Exception as error:
            if pending:
                self.settle_in_background([completed[i] for i in pending])
            self.handle_field_error(error, step.return_type, step.details, field_path)
            return None
        if not pending:
            return completed
        return self._gather_list(completed, pending, step, field_path)

    def _object(self, step: _Step, value: Any, return_type: GraphQLOutputType, path: Path) -> Any:
        """An object's sub-selection, with graphql-core's error handling for `return_type`
        (the field's type, or a list's item type) at `path`."""
        try:
            plan = step.sub_plan
            if plan is None:
                grouped_field_set, new_defer_usages, _ = self.collect_subfields(
                    step.named, step.details
                )
                if new_defer_usages:
                    sub = self.collect_and_execute_subfields(
                        step.named, step.details, path, value, None
                    )
                else:
                    plan = step.sub_plan = self._plan(step.named, grouped_field_set)
            if plan is not None:
                sub = self._run(plan, step.named, value, path)
        except Exception as error:
            self.handle_field_error(error, return_type, step.details, path)
            return None
        if self.is_awaitable(sub):
            return self._await_object(sub, return_type, step.details, path)
        return sub

    async def _await_object(
        self, sub: Awaitable[Any], return_type: GraphQLOutputType, details: Any, path: Path
    ) -> Any:
        try:
            return await sub
        except Exception as error:
            self.handle_field_error(error, return_type, details, path)
            return None

    async def _gather_list(
        self, completed: list[Any], pending: list[int], step: _Step, path: Path
    ) -> Any:
        try:
            if len(pending) == 1:
                completed[pending[0]] = await completed[pending[0]]
            else:
                awaited = await gather_with_cancel(*(completed[i] for i in pending))
                for index, sub in zip(pending, awaited, strict=True):
                    completed[index] = sub
        except Exception as error:
            self.handle_field_error(error, step.return_type, step.details, path)
            return None
        return completed
