"""The GraphQL schema: each feature folder's queries and mutations merged, with limits on depth,
aliases, tokens and cost (api/cost.py), one operation run per request, and unexpected errors
masked."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
    GraphQLError,
    OperationDefinitionNode,
)
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.cost import CostLimit
from api.fast_execution import FastExecution
from api.labels.mutations import LabelMutation
from api.limits import alias_limit_rule, depth_limit_rule
from api.sales.mutations import SaleMutation
from api.sales.queries import SaleQuery
from api.shops.mutations import ShopMutation
from api.shops.queries import ShopQuery
from api.stock.mutations import StockMutation
from api.stock.queries import StockQuery
from api.sync.mutations import SyncMutation
from api.sync.queries import SyncQuery
from api.triage.rules import RuleMutation, RuleQuery
from api.triage.stats import StatsQuery
from api.triage.tags import TagMutation

log = logging.getLogger("aftersales.graphql")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 3000
# Parsed and validated documents kept, keyed by query text: clients send the same few
# operations again and again, and validating one costs about a tenth of a page of 50.
CACHED_DOCUMENTS = 128

# The limits' validation rules are built once, not per request: the validation cache keys on
# the rule classes, and each of these functions makes a new class per call. Both run in time
# linear in the document (api/limits.py), unlike Strawberry's QueryDepthLimiter and
# MaxAliasesLimiter, which are exponential in chained fragment spreads.
LIMIT_RULES = [depth_limit_rule(MAX_DEPTH), alias_limit_rule(MAX_ALIASES)]


def _is_client_error(error: GraphQLError) -> bool:
    """What the client can fix: parse, validation and variable errors (raised before any
    resolver runs, so without a path) and the errors resolvers raise on purpose (GraphQLError,
    from api.errors). Anything else a resolver raised is a bug."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return True
    return error.path is None and isinstance(original, ValueError)


def _should_mask(error: GraphQLError) -> bool:
    """Hide, and log, a bug; show a client error as it is."""
    if _is_client_error(error):
        return False
    log.error("unexpected error in %s", error.path, exc_info=error.original_error)
    return True


class OneOperation(SchemaExtension):
    """A document with several operations runs the one `operationName` names; without a name
    it is an error, as the GraphQL spec says (Strawberry alone would run the first)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # Strawberry keeps the name the request gave apart from the one it falls back on.
        named = context._provided_operation_name
        if context.result is None and document is not None and named is None:
            operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if operations > 1:
                ambiguous = GraphQLError(
                    "Must provide operation name if query contains multiple operations."
                )
                context.result = GraphQLExecutionResult(data=None, errors=[ambiguous])
        yield


# Each feature contributes its own Query / Mutation classes; they are merged here.
QUERIES: tuple[type, ...] = (SaleQuery, ShopQuery, StockQuery, SyncQuery, RuleQuery, StatsQuery)
MUTATIONS: tuple[type, ...] = (
    SaleMutation,
    StockMutation,
    LabelMutation,
    SyncMutation,
    ShopMutation,
    TagMutation,
    RuleMutation,
)


class Schema(strawberry.Schema):
    """Strawberry logs every error of every request at ERROR, with a traceback when there is one:
    a client's bad enum or unknown warehouse would read like an outage. Client mistakes go to
    DEBUG; bugs keep Strawberry's ERROR line and traceback."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if _is_client_error(error):
                log.debug("client error: %s", error.message)
        bugs = [error for error in errors if not _is_client_error(error)]
        if bugs:
            super().process_errors(bugs, execution_context)


def build_schema(*, fast_execution: bool = True) -> strawberry.Schema:
    """The schema; `fast_execution=False` runs graphql-core's own executor (the switch
    GRAPHQL_FAST_EXECUTION, docs/configuration.md)."""
    return Schema(
        execution_context_class=FastExecution if fast_execution else None,
        query=merge_types("Query", QUERIES),
        mutation=merge_types("Mutation", MUTATIONS),
        extensions=[
            lambda: AddValidationRules(LIMIT_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
            lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
            # Both run once the document is valid, before anything executes; in this order, so
            # the cost is that of the one operation that would run.
            OneOperation,
            CostLimit,
            lambda: MaskErrors(
                should_mask_error=_should_mask, error_message="Internal error; it has been logged."
            ),
        ],
    )


schema = build_schema()


@functools.cache
def _without_fast_execution() -> strawberry.Schema:
    return build_schema(fast_execution=False)


def schema_for(*, fast_execution: bool) -> strawberry.Schema:
    """`schema`, or with GRAPHQL_FAST_EXECUTION=off one built without `FastExecution` (once,
    when first asked for)."""
    return schema if fast_execution else _without_fast_execution()
