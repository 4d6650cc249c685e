"""`FastExecution`: graphql-core's executor with a shorter way for the fields a page of
after-sales is made of, passed to Strawberry as its `execution_context_class` (api/schema.py).

It leans on internals of graphql-core (`execute_fields`, `collect_subfields`,
`handle_field_error`, grouped field sets and defer usages) and of Strawberry (its default
resolver marker, `GraphQLCoreConverter.DEFINITION_BACKREF`, `CustomGraphQLEnumType`), which is
why pyproject.toml pins both to the minor versions it was written against. Turned off with
`GRAPHQL_FAST_EXECUTION=off` (docs/configuration.md): the schema then runs graphql-core's own
executor, which answers the same. tests/unit/test_fast_execution.py holds the two to the same
data and errors. The plans it follows, one step per field: api/fast_plan.py."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from graphql import (
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
)
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.fast_plan import (
    FALLBACK,
    GENERIC,
    LEAF,
    LEAF_LIST,
    OBJECT,
    Step,
    make_step,
    shared_plans,
)


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
        self._plans: dict[int, tuple[Any, list[Step]]] = {}
        # The operation's plans kept across requests, when it is `_plannable` (None if not).
        self._shared = shared_plans(self.operation, self.fragments) if self._fast else None

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[Step]:
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
                make_step(name, details, fields.get(details[0].node.name.value))
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
        plan: list[Step],
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
                result = FALLBACK
                if kind == LEAF:
                    try:
                        value = getattr(source, step.attr)
                    except Exception:
                        value = FALLBACK
                    if value is None:
                        result = None if step.nullable else FALLBACK
                    elif step.strings and type(value) is str:
                        result = value
                    elif value is not FALLBACK:
                        names = step.enum_names
                        if names is not None and type(value) is step.enum_type:
                            result = names.get(value, FALLBACK)
                        if result is FALLBACK:
                            result = self._leaf(step, value)
                elif kind != GENERIC:
                    result = self._complete(step, parent_type, source, path)
                if result is FALLBACK:
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
                elif kind >= OBJECT and is_awaitable(result):
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

    def _leaf(self, step: Step, value: Any) -> Any:
        """A leaf value coerced, or `FALLBACK` for graphql-core's own completion to report."""
        if value is Undefined or isinstance(value, Exception):
            return FALLBACK
        try:
            coerced = step.coerce(value)
        except Exception:
            return FALLBACK
        if coerced is None or coerced is Undefined:
            return FALLBACK
        if step.enum_names is not None and type(value) is step.enum_type:
            step.enum_names[value] = coerced
        return coerced

    def _complete(
        self, step: Step, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        """A list or object field completed, or `FALLBACK` (nothing of it done yet)."""
        try:
            value = getattr(source, step.attr)
        except Exception:
            return FALLBACK
        if value is None or value is Undefined:
            return None if step.nullable and not step.prefetched else FALLBACK
        if isinstance(value, Exception) or self.is_awaitable(value):
            return FALLBACK
        kind = step.kind
        if kind == OBJECT:
            return self._object(
                step, value, step.return_type, Path(path, step.name, parent_type.name)
            )
        if type(value) is not list and type(value) is not tuple:
            return FALLBACK
        if kind == LEAF_LIST:
            completed: list[Any] = []
            for item in value:
                if item is None:
                    if not step.item_nullable:
                        return FALLBACK
                    completed.append(None)
                    continue
                names = step.enum_names
                coerced = FALLBACK
                if names is not None and type(item) is step.enum_type:
                    coerced = names.get(item, FALLBACK)
                if coerced is FALLBACK:
                    coerced = self._leaf(step, item)
                    if coerced is FALLBACK:
                        return FALLBACK
                completed.append(coerced)
            return completed
        # OBJECT_LIST: graphql-core's complete_iterable_value / complete_list_item_value.
        is_awaitable = self.is_awaitable
        for item in value:
            if item is None:
                if not step.item_nullable:
                    return FALLBACK
            elif item is Undefined or isinstance(item, Exception) or is_awaitable(item):
                return FALLBACK
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

    def _object(self, step: Step, value: Any, return_type: GraphQLOutputType, path: Path) -> Any:
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
        self, completed: list[Any], pending: list[int], step: Step, path: Path
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
