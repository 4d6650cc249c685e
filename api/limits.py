"""The depth and alias limits (docs/graphql.md#limits), checked while the document is validated,
in time linear in the document.

Strawberry's `QueryDepthLimiter` and `MaxAliasesLimiter` walk a fragment again at every spread
of it, so a document whose fragments each spread the next one twice costs 2^N steps for N
fragments (a 1 KB query froze the process for minutes). These rules report the same errors as
Strawberry's, but walk each fragment once (the alias count) or once per depth it is spread at
(the depth: at most `max_depth + 2` times), so the work is bounded by the document's size.

- Depth: as in Strawberry's rule, a selection nested `max_depth + 1` levels below the operation
  is an error, `'<operation>' exceeds maximum operation depth of <n>`, at that node (a field, a
  spread or an inline fragment alike); introspection fields (`__schema`, `__type`) are not
  descended into.
- Aliases: every alias the operations would resolve, a fragment's counted at each spread of it,
  over the limit is one error, `<count> aliases found. Allowed: <n>`.

A spread of an unknown fragment, or of one already being walked (a cycle), counts nothing here:
graphql-core's own rules (KnownFragmentNames, NoFragmentCycles) refuse the document.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


def _fragments(definitions: Sequence[Node]) -> dict[str, FragmentDefinitionNode]:
    """The document's fragments by name."""
    return {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}


def depth_limit_rule(max_depth: int) -> type[ASTValidationRule]:
    """A validation rule class refusing operations nested deeper than `max_depth`."""

    class DepthLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            fragments = _fragments(definitions)
            for definition in definitions:
                if isinstance(definition, OperationDefinitionNode):
                    name = definition.name.value if definition.name else "anonymous"
                    walk = _Walk(fragments, max_depth)
                    walk.selections(definition.selection_set, 0)
                    for node in walk.too_deep:
                        context.report_error(
                            GraphQLError(
                                f"'{name}' exceeds maximum operation depth of {max_depth}",
                                [node],
                            )
                        )

    return DepthLimit


def alias_limit_rule(max_aliases: int) -> type[ASTValidationRule]:
    """A validation rule class refusing documents with more than `max_aliases` aliases."""

    class AliasLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            fragments = _fragments(definitions)
            count = _Aliases(fragments)
            total = sum(
                count.of(d.selection_set)
                for d in definitions
                if isinstance(d, OperationDefinitionNode)
            )
            if total > max_aliases:
                context.report_error(GraphQLError(f"{total} aliases found. Allowed: {max_aliases}"))

    return AliasLimit


class _Aliases:
    """Aliases under a selection set, each fragment's counted once and remembered."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self._of_fragment: dict[str, int] = {}

    def of(self, selection_set: SelectionSetNode) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += selection.alias is not None
                if selection.selection_set is not None:
                    total += self.of(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.of(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.of_fragment(selection.name.value)
        return total

    def of_fragment(self, name: str) -> int:
        known = self._of_fragment.get(name)
        if known is None:
            fragment = self.fragments.get(name)
            self._of_fragment[name] = 0  # while it is counted: a cycle adds nothing
            known = 0 if fragment is None else self.of(fragment.selection_set)
            self._of_fragment[name] = known
        return known


class _Walk:
    """One operation's selections, each fragment walked once per depth it is spread at."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], max_depth: int) -> None:
        self.fragments = fragments
        self.max_depth = max_depth
        self.too_deep: list[Node] = []  # in document order, each node once
        self._reported: set[int] = set()
        self._walked: set[tuple[str, int]] = set()  # (fragment, depth) already walked
        self._walking: set[str] = set()  # fragments on the current path (a cycle is invalid)

    def selections(self, selection_set: SelectionSetNode, depth: int) -> None:
        for selection in selection_set.selections:
            if depth > self.max_depth:
                if id(selection) not in self._reported:
                    self._reported.add(id(selection))
                    self.too_deep.append(selection)
                continue  # nothing below it can be shallower
            if isinstance(selection, FieldNode):
                if selection.selection_set is not None and not selection.name.value.startswith(
                    "__"
                ):
                    self.selections(selection.selection_set, depth + 1)
            elif isinstance(selection, InlineFragmentNode):
                self.selections(selection.selection_set, depth)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self._walking or (name, depth) in self._walked:
                    continue
                self._walked.add((name, depth))
                self._walking.add(name)
                self.selections(fragment.selection_set, depth)
                self._walking.discard(name)
