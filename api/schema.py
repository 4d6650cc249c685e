"""The GraphQL schema, with limits on depth, aliases and tokens (SPEC §9)."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.tools import merge_types

from api.labels import LabelMutation
from api.mutations import Mutation
from api.queries import Query
from api.stock import StockMutation, StockQuery

log = logging.getLogger("aftersales.graphql")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 3000


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
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: MaskErrors(
                should_mask_error=_should_mask, error_message="Internal error; it has been logged."
            ),
        ],
    )


schema = build_schema()
