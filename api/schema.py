"""The GraphQL schema, with limits on depth, aliases and tokens (SPEC §9)."""

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

from api.labels import LabelMutation
from api.mutations import Mutation
from api.queries import Query
from api.stock import StockMutation, StockQuery

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
    """Show validation errors and bad arguments; hide (and log) anything unexpected."""
    original = error.original_error
    if original is None or isinstance(original, (ValueError, GraphQLError)):
        return False
    log.error("unexpected error in %s", error.path, exc_info=original)
    return True


# Each feature contributes its own Query / Mutation classes; they are merged here.
QUERIES: tuple[type, ...] = (Query, StockQuery)
MUTATIONS: tuple[type, ...] = (Mutation, StockMutation, LabelMutation)


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
