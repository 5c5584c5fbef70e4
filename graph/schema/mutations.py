"""Mutation root. GraphQL checks the input's types; every rule about the values (sizes,
blank text, the IR's shape, ambiguities, versions) is the database's, which holds it for
every door and whose `CODE: text` message reaches the client (migrations/0007, 0008)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph.backends.base import DraftInput as DraftCommand
from graph.backends.base import (
    DraftRevert,
    HoleAnswer,
    NewDraft,
    NewRevision,
    NewSession,
    SessionVersion,
)
from graph.context import RequestContext
from graph.schema.ids import parse_id
from graph.schema.model import ExecutorOnly, Write, Written, described, reads
from graph.schema.types import (
    Draft,
    Resolution,
    ResolutionType,
    Revision,
    RevisionType,
    Session,
    SessionSource,
    ValidationStatus,
    from_row,
)

# A payload field of these is answered field by field only.
WRITTEN = ExecutorOnly("a mutation's payload: executed field by field")


@strawberry.input
class DraftInput:
    ir: JSON
    validation_status: ValidationStatus = ValidationStatus.PENDING
    smt_results: JSON | None = None
    ambiguities: list[str] | None = strawberry.field(
        default=None,
        description="The holes still open; each must be a hole of the IR. Defaults to "
        "every hole in the IR.",
    )
    metadata: JSON | None = None


@strawberry.input
class CreateSessionInput:
    prompt: str | None = None
    source: SessionSource = SessionSource.PROMPT
    title: str | None = None
    metadata: JSON | None = None
    initial_draft: DraftInput | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retry with the same key returns the same session."
    )


@strawberry.input
class AddRevisionInput:
    session_id: strawberry.ID
    content: str
    type: RevisionType = RevisionType.MANUAL_EDIT
    target_hole: str | None = None
    metadata: JSON | None = None


@strawberry.input
class AddDraftInput:
    session_id: strawberry.ID
    ir: JSON
    validation_status: ValidationStatus = ValidationStatus.PENDING
    smt_results: JSON | None = None
    ambiguities: list[str] | None = None
    applied_hole_ids: list[str] | None = None
    metadata: JSON | None = None
    expected_version: int | None = None


@strawberry.input
class ResolveHoleInput:
    session_id: strawberry.ID
    hole_id: str
    text: str
    type: ResolutionType = ResolutionType.CLARIFY_INTENT
    metadata: JSON | None = None
    expected_version: int | None = None


@strawberry.input
class SessionVersionInput:
    id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class RevertToDraftInput:
    session_id: strawberry.ID
    version: int
    expected_version: int | None = None


@strawberry.input
class DeleteSessionInput:
    id: strawberry.ID


@strawberry.type
class CreateSessionPayload:
    session: Session = described(Written("sessions", "id"))


@strawberry.type
class AddRevisionPayload:
    revision: Revision = described(Written("revisions", "id"))
    session: Session = described(Written("sessions", "session_id"))


@strawberry.type
class AddDraftPayload:
    draft: Draft = described(Written("drafts", "id"))
    session: Session = described(Written("sessions", "session_id"))


@strawberry.type
class ResolveHolePayload:
    resolution: Resolution = described(Written("resolutions", "id"))
    revision: Revision = described(Written("revisions", "revision_id"))
    session: Session = described(Written("sessions", "session_id"))


@strawberry.type
class SessionPayload:
    session: Session = described(Written("sessions", "id"))


@strawberry.type
class RevertToDraftPayload:
    draft: Draft = described(Written("drafts", "id"))
    revision: Revision = described(Written("revisions", "session_id", newest="number"))
    session: Session = described(Written("sessions", "session_id"))


@strawberry.type
class DeleteSessionPayload:
    deleted_id: strawberry.ID = described(WRITTEN)


# Each mutation's command, from its input as Strawberry converts it: the resolver and the
# compiled write (graph/reads/plan.py) both build it here, so both send the store the same.


def _draft(
    ir: Any,
    validation_status: ValidationStatus,
    smt_results: Any,
    ambiguities: list[str] | None,
    metadata: Any,
) -> DraftCommand:
    return DraftCommand(
        ir=ir,
        validation_status=validation_status.value,
        smt_results=smt_results,
        ambiguities=ambiguities,
        metadata=metadata,
    )


def new_session(input: CreateSessionInput) -> NewSession:
    draft = input.initial_draft
    return NewSession(
        prompt=input.prompt,
        source=input.source.value,
        title=input.title,
        metadata=input.metadata,
        initial_draft=(
            _draft(
                draft.ir,
                draft.validation_status,
                draft.smt_results,
                draft.ambiguities,
                draft.metadata,
            )
            if draft is not None
            else None
        ),
        idempotency_key=input.idempotency_key,
    )


def new_revision(input: AddRevisionInput) -> NewRevision:
    return NewRevision(
        session_id=parse_id(input.session_id, "sessionId"),
        content=input.content,
        revision_type=input.type.value,
        target_hole=input.target_hole,
        metadata=input.metadata,
    )


def new_draft(input: AddDraftInput) -> NewDraft:
    return NewDraft(
        session_id=parse_id(input.session_id, "sessionId"),
        draft=_draft(
            input.ir,
            input.validation_status,
            input.smt_results,
            input.ambiguities,
            input.metadata,
        ),
        applied_hole_ids=list(input.applied_hole_ids or []),
        expected_version=input.expected_version,
    )


def hole_answer(input: ResolveHoleInput) -> HoleAnswer:
    return HoleAnswer(
        session_id=parse_id(input.session_id, "sessionId"),
        hole_id=input.hole_id,
        text=input.text,
        resolution_type=input.type.value,
        metadata=input.metadata,
        expected_version=input.expected_version,
    )


def session_version(input: SessionVersionInput) -> SessionVersion:
    return SessionVersion(parse_id(input.id), input.expected_version)


def draft_revert(input: RevertToDraftInput) -> DraftRevert:
    return DraftRevert(
        parse_id(input.session_id, "sessionId"), input.version, input.expected_version
    )


@strawberry.type
class Mutation:
    """Each mutation is one SQL function; a document with one of them is answered by the
    store's write and one statement for its payload when it can be (graph/reads/plan.py),
    else field by field here."""

    @strawberry.mutation(
        metadata=reads(Write("create_session", new_session)),
        description="Creates a session with its INITIAL revision (from prompt) and draft 1.",
    )
    async def create_session(
        self,
        info: Info[RequestContext, None],
        input: CreateSessionInput,
    ) -> CreateSessionPayload:
        viewer = info.context.require_viewer()
        row = await info.context.store().create_session(viewer, new_session(input))
        return CreateSessionPayload(session=Session.of(row))

    @strawberry.mutation(metadata=reads(Write("add_revision", new_revision)))
    async def add_revision(
        self,
        info: Info[RequestContext, None],
        input: AddRevisionInput,
    ) -> AddRevisionPayload:
        viewer = info.context.require_viewer()
        revision, session = await info.context.store().add_revision(viewer, new_revision(input))
        return AddRevisionPayload(
            revision=from_row(Revision, revision), session=Session.of(session)
        )

    @strawberry.mutation(
        metadata=reads(Write("add_draft", new_draft)),
        description="Adds the next draft; marks appliedHoleIds' resolutions applied.",
    )
    async def add_draft(
        self,
        info: Info[RequestContext, None],
        input: AddDraftInput,
    ) -> AddDraftPayload:
        viewer = info.context.require_viewer()
        draft, session = await info.context.store().add_draft(viewer, new_draft(input))
        return AddDraftPayload(draft=from_row(Draft, draft), session=Session.of(session))

    @strawberry.mutation(
        metadata=reads(Write("resolve_hole", hole_answer)),
        description="Records an answer to a hole and its HOLE_FILL revision.",
    )
    async def resolve_hole(
        self,
        info: Info[RequestContext, None],
        input: ResolveHoleInput,
    ) -> ResolveHolePayload:
        viewer = info.context.require_viewer()
        resolution, revision, session = await info.context.store().resolve_hole(
            viewer, hole_answer(input)
        )
        return ResolveHolePayload(
            resolution=from_row(Resolution, resolution),
            revision=from_row(Revision, revision),
            session=Session.of(session),
        )

    @strawberry.mutation(
        metadata=reads(Write("finalize_session", session_version)),
        description="Fails with FAILED_PRECONDITION while the current draft has unresolved "
        "holes or is CONTRADICTORY.",
    )
    async def finalize_session(
        self,
        info: Info[RequestContext, None],
        input: SessionVersionInput,
    ) -> SessionPayload:
        viewer = info.context.require_viewer()
        command = session_version(input)
        row = await info.context.store().finalize_session(
            viewer, command.session_id, command.expected_version
        )
        return SessionPayload(session=Session.of(row))

    @strawberry.mutation(metadata=reads(Write("abandon_session", session_version)))
    async def abandon_session(
        self,
        info: Info[RequestContext, None],
        input: SessionVersionInput,
    ) -> SessionPayload:
        viewer = info.context.require_viewer()
        command = session_version(input)
        row = await info.context.store().abandon_session(
            viewer, command.session_id, command.expected_version
        )
        return SessionPayload(session=Session.of(row))

    @strawberry.mutation(
        metadata=reads(Write("revert_to_draft", draft_revert)),
        description="Appends a draft with the IR of an earlier version (the next version, "
        "PENDING, the IR's holes as ambiguities) and a MANUAL_EDIT revision saying so.",
    )
    async def revert_to_draft(
        self,
        info: Info[RequestContext, None],
        input: RevertToDraftInput,
    ) -> RevertToDraftPayload:
        viewer = info.context.require_viewer()
        command = draft_revert(input)
        draft, revision, session = await info.context.store().revert_to_draft(
            viewer, command.session_id, command.version, command.expected_version
        )
        return RevertToDraftPayload(
            draft=from_row(Draft, draft),
            revision=from_row(Revision, revision),
            session=Session.of(session),
        )

    @strawberry.mutation(
        metadata=reads(WRITTEN),
        description="Deletes the session with its revisions, drafts and resolutions.",
    )
    async def delete_session(
        self,
        info: Info[RequestContext, None],
        input: DeleteSessionInput,
    ) -> DeleteSessionPayload:
        viewer = info.context.require_viewer()
        deleted = await info.context.store().delete_session(viewer, parse_id(input.id))
        return DeleteSessionPayload(deleted_id=strawberry.ID(str(deleted)))
