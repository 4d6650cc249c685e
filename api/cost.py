"""The cost limit (docs/graphql.md#cost): what a request may do at worst, computed from the
document and its variables before anything runs, and refused above two budgets.

- **reads**: after-sales the response may hold, each counted once plus once for each nested
  list asked for on it (`items`, `notes`, `history`, `stockedIn`, `tags`). `afterSales(first: n)`
  holds n of them (n as sent, default 20, at most 100); a bulk payload's `results` one per id;
  any other field that returns an after-sale, one. A page of 100 with all four lists costs 500;
  a request may cost `MAX_READS`, ten such pages. `warehouses` costs the most a seller may
  have (200), `inventory(first: n)` n (default and at most 100).
- **commands**: each mutation field runs one command, a bulk mutation one per id in `ids`; a
  request may run `MAX_COMMANDS`, two full bulk calls.

Aliases multiply both (each alias is resolved on its own). Directives (`@skip`, `@include`)
are ignored: the worst case counts. A refused request is a top-level error whose
`extensions.code` is `COST_LIMIT`; nothing of it ran.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_list_type,
    is_object_type,
    value_from_ast_untyped,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from aftersales.domain.stock import MAX_WAREHOUSES
from aftersales.store.queries import MAX_PAGE

MAX_READS = 5000
MAX_COMMANDS = 200
CODE = "COST_LIMIT"

AFTER_SALE = "AfterSale"
NESTED_LISTS = frozenset({"items", "notes", "history", "stockedIn", "tags"})
QUERY = "Query"
# The stock lists: how many items each may hold (None: its `first`, at most MAX_PAGE).
STOCK_LISTS: dict[str, int | None] = {"warehouses": MAX_WAREHOUSES, "inventory": None}


@dataclass(frozen=True)
class Cost:
    reads: int
    commands: int

    @property
    def within_limits(self) -> bool:
        return self.reads <= MAX_READS and self.commands <= MAX_COMMANDS

    def error(self) -> GraphQLError:
        over = []
        if self.reads > MAX_READS:
            over.append(
                f"it may read {self.reads:,} after-sales and nested lists, warehouses and"
                f" inventory levels (at most {MAX_READS:,}, such as ten pages of 100 with items,"
                " notes, history and stockedIn)"
            )
        if self.commands > MAX_COMMANDS:
            over.append(
                f"it may run {self.commands:,} commands (at most {MAX_COMMANDS:,}: one per"
                " mutation, one per id of a bulk mutation)"
            )
        return GraphQLError(
            f"The request is over the cost limit: {'; '.join(over)}. Nothing was run;"
            " split it into smaller requests.",
            extensions={
                "code": CODE,
                "cost": {"reads": self.reads, "commands": self.commands},
                "limits": {"reads": MAX_READS, "commands": MAX_COMMANDS},
            },
        )


def cost_of(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Cost:
    """The worst case of the operation `operation_name` names (or the document's only one)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return Cost(0, 0)
    given = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in given and definition.default_value is not None:
            given[name] = value_from_ast_untyped(definition.default_value)
    walk = _Walk(document, given)
    root = schema.get_root_type(operation.operation)
    if root is None:
        return Cost(0, 0)
    reads = walk.reads(operation.selection_set, root, 1, 1)
    commands = 0
    if operation.operation is OperationType.MUTATION:
        for field in walk.fields(operation.selection_set):
            definition = root.fields.get(field.name.value)
            if definition is not None:
                ids = walk.ids(field, definition)
                commands += 1 if ids is None else ids
    return Cost(reads, commands)


class _Walk:
    """The walk is linear in the document: each selection set's reads are computed once per
    type and list size (they scale with the count of objects), and a fragment spread twice in
    one selection set is collected once, as execution does (graphql-core's collect_fields). A
    document whose fragments each spread the next one twice would otherwise cost 2^N steps."""

    def __init__(self, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self.variables = dict(variables)
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        # (selection set, type, size) -> reads of one object; the selection set is kept with it
        # so its id is not reused while the walk runs
        self._reads: dict[tuple[int, str, int], tuple[SelectionSetNode, int]] = {}

    def reads(
        self, selections: SelectionSetNode, parent: GraphQLObjectType, count: int, size: int
    ) -> int:
        """Reads of `count` objects of type `parent` with these selections; `size` is how many
        items each list below holds (a page's `first`, a bulk call's ids), until one is met."""
        if count == 0:
            return 0
        key = (id(selections), parent.name, size)
        known = self._reads.get(key)
        if known is None:
            # 0 while it is being computed: a fragment cycle (refused by validation anyway)
            # ends here instead of recursing forever.
            self._reads[key] = (selections, 0)
            known = (selections, self._reads_of_one(selections, parent, size))
            self._reads[key] = known
        return count * known[1]

    def _reads_of_one(
        self, selections: SelectionSetNode, parent: GraphQLObjectType, size: int
    ) -> int:
        total = 1 if parent.name == AFTER_SALE else 0
        for field in self.fields(selections):
            name = field.name.value
            definition = parent.fields.get(name)
            if definition is None:  # __typename
                continue
            if name in STOCK_LISTS and parent.name == QUERY:
                items = STOCK_LISTS[name]
                if items is None:  # `first` says
                    items = self.size(field, definition) or 0
                total += items  # one read per warehouse or inventory level
                continue
            if parent.name == AFTER_SALE and name in NESTED_LISTS:
                total += 1  # one list per after-sale
                continue
            target = get_named_type(definition.type)
            if field.selection_set is None or not is_object_type(target):
                continue
            assert isinstance(target, GraphQLObjectType)
            if is_list_type(get_nullable_type(definition.type)):
                total += self.reads(field.selection_set, target, size, 1)
            else:
                own = self.size(field, definition)
                total += self.reads(field.selection_set, target, 1, size if own is None else own)
        return total

    def size(self, field: FieldNode, definition: GraphQLField) -> int | None:
        """How many items the lists below this field hold, when its arguments say."""
        if "first" in definition.args:
            first = self.argument(field, definition, "first")
            if not isinstance(first, int) or isinstance(first, bool):
                first = definition.args["first"].default_value
            return min(max(first if isinstance(first, int) else MAX_PAGE, 0), MAX_PAGE)
        return self.ids(field, definition)

    def ids(self, field: FieldNode, definition: GraphQLField) -> int | None:
        """How many ids a bulk mutation's input names; None for a field without `ids`."""
        if "input" not in definition.args:
            return None
        input_type = get_named_type(definition.args["input"].type)
        if "ids" not in getattr(input_type, "fields", {}):
            return None
        given = self.argument(field, definition, "input")
        ids = given.get("ids") if isinstance(given, dict) else None
        if isinstance(ids, list):
            return len(ids)
        return 0 if ids is None else 1  # a single id is coerced to a list of one

    def argument(self, field: FieldNode, definition: GraphQLField, name: str) -> Any:
        for argument in field.arguments or ():
            if argument.name.value == name:
                value = value_from_ast_untyped(argument.value, self.variables)
                if value is not Undefined:
                    return value
        return definition.args[name].default_value

    def fields(
        self, selections: SelectionSetNode, seen: set[str] | None = None
    ) -> Iterator[FieldNode]:
        """The fields selected, fragments spread (our schema has no abstract types); a fragment
        already spread in this selection set is not collected again."""
        seen = set() if seen is None else seen
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self.fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    seen.add(name)
                    yield from self.fields(fragment.selection_set, seen)


class CostLimit(SchemaExtension):
    """Refuses, before execution, a request over the cost limit (see the module docstring)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and context.graphql_document is not None:
            cost = cost_of(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
            if not cost.within_limits:
                context.result = GraphQLExecutionResult(data=None, errors=[cost.error()])
        yield
