"""The GraphQL schema: each feature folder's queries and mutations merged, with limits on depth,
aliases and tokens, and unexpected errors masked."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types

from api.labels.mutations import LabelMutation
from api.sales.mutations import SaleMutation
from api.sales.queries import SaleQuery
from api.shops.queries import ShopQuery
from api.stock.mutations import StockMutation
from api.stock.queries import StockQuery

log = logging.getLogger("aftersales.graphql")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 3000
# Parsed and validated documents kept, keyed by query text: clients send the same few
# operations again and again, and validating one costs about a tenth of a page of 50.
CACHED_DOCUMENTS = 128

# The limits' validation rules are built once, not per request: the validation cache keys on
# the rule classes, and QueryDepthLimiter / MaxAliasesLimiter make a new class per instance.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def _should_mask(error: GraphQLError) -> bool:
    """Show what the client can fix: parse, validation and variable errors (raised before any
    resolver runs, so without a path) and the errors resolvers raise on purpose (GraphQLError,
    from api.errors). Hide, and log, anything else a resolver raised: that is a bug."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    if error.path is None and isinstance(original, ValueError):
        return False  # a scalar that did not parse, reported before execution
    log.error("unexpected error in %s", error.path, exc_info=original)
    return True


# Each feature contributes its own Query / Mutation classes; they are merged here.
QUERIES: tuple[type, ...] = (SaleQuery, ShopQuery, StockQuery)
MUTATIONS: tuple[type, ...] = (SaleMutation, StockMutation, LabelMutation)


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=merge_types("Query", QUERIES),
        mutation=merge_types("Mutation", MUTATIONS),
        extensions=[
            lambda: AddValidationRules(LIMIT_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
            lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
            lambda: MaskErrors(
                should_mask_error=_should_mask, error_message="Internal error; it has been logged."
            ),
        ],
    )


schema = build_schema()
