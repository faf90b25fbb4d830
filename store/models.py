"""SQLAlchemy 2 typed models. Every row hangs off an owner, so forgetting an owner is one delete."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Owner(Base):
    """A person on one channel: (channel, workspace, user id). Telegram has no workspace ('')."""

    __tablename__ = "owners"
    __table_args__ = (UniqueConstraint("channel", "workspace", "user_id", name="uq_owner_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64), default="")
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    conversation: Mapped["Conversation | None"] = relationship(back_populates="owner", cascade="all, delete-orphan", passive_deletes=True)


class Business(Base):
    __tablename__ = "businesses"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_business_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(Text)


class Persona(Base):
    __tablename__ = "personas"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id", ondelete="SET NULL"))
    name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(Text)
    goals: Mapped[str | None] = mapped_column(Text)
    pains: Mapped[str | None] = mapped_column(Text)
    behaviour: Mapped[str | None] = mapped_column(Text)
    channels: Mapped[list[Any] | None] = mapped_column(JSON)
    trust: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[list[Any] | None] = mapped_column(JSON)


class Journey(Base):
    """One journey per persona. `answers` is the canonical record; the columns and the
    stage/touchpoint rows are a projection of it for queries and reports."""

    __tablename__ = "journeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id", ondelete="SET NULL"))
    persona_id: Mapped[int | None] = mapped_column(ForeignKey("personas.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(8), default="en")
    goal: Mapped[str | None] = mapped_column(Text)
    process: Mapped[str | None] = mapped_column(Text)
    promise: Mapped[str | None] = mapped_column(Text)
    sacrifice: Mapped[str | None] = mapped_column(Text)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    stages: Mapped[list["Stage"]] = relationship(
        back_populates="journey", cascade="all, delete-orphan", order_by="Stage.position", passive_deletes=True
    )


class Stage(Base):
    __tablename__ = "stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    delights: Mapped[str | None] = mapped_column(Text)

    journey: Mapped[Journey] = relationship(back_populates="stages")
    touchpoints: Mapped[list["Touchpoint"]] = relationship(
        back_populates="stage", cascade="all, delete-orphan", order_by="Touchpoint.position", passive_deletes=True
    )


class Touchpoint(Base):
    __tablename__ = "touchpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(Text)
    feeling: Mapped[int | None] = mapped_column(Integer)
    pain: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(Text)

    stage: Mapped[Stage] = relationship(back_populates="touchpoints")


class AnswerLog(Base):
    """Append-only: every answer as given, in order. Never updated."""

    __tablename__ = "answer_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(200))
    raw: Mapped[str] = mapped_column(Text)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Conversation(Base):
    """Where an owner is. `version` guards against two processes answering at once."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), unique=True)
    journey_id: Mapped[int | None] = mapped_column(ForeignKey("journeys.id", ondelete="SET NULL"))
    lang: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    owner: Mapped[Owner] = relationship(back_populates="conversation")

    __mapper_args__ = {"version_id_col": version}


class ProcessedEvent(Base):
    """Platform update/event ids already handled, so a re-delivery is not recorded twice."""

    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Summary(Base):
    """A written report, cached by what it was written from (answers, prompt version, model)."""

    __tablename__ = "summaries"
    __table_args__ = (Index("ix_summary_cache", "journey_id", "cache_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), index=True)
    generator: Mapped[str] = mapped_column(String(120))
    cache_key: Mapped[str] = mapped_column(String(128))
    prompt_version: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(120))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JourneyShare(Base):
    """One journey shared into one channel of the owner's workspace."""

    __tablename__ = "journey_shares"
    __table_args__ = (
        UniqueConstraint("journey_id", "platform", "workspace", "channel_id", name="uq_journey_share"),
        Index("ix_journey_shares_place", "platform", "workspace", "channel_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Contribution(Base):
    """A teammate's feeling score (1..5) for a touchpoint, or a touchpoint they added."""

    __tablename__ = "contributions"
    __table_args__ = (
        UniqueConstraint("journey_id", "workspace", "user_id", "stage_slug", "touchpoint", name="uq_contribution"),
        Index("ix_contributions_contributor", "platform", "workspace", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), index=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("journey_shares.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    stage_slug: Mapped[str] = mapped_column(String(64))
    stage_name: Mapped[str] = mapped_column(Text)
    touchpoint: Mapped[str] = mapped_column(String(200))
    added: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ProcessedContribution(Base):
    """Keys of contribution events already handled (button re-deliveries, double taps)."""

    __tablename__ = "processed_contributions"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class OutboxItem(Base):
    """A reply waiting to be delivered, written in the same transaction as the turn that made it.

    Keyed by the owner's identity rather than the owner row, so the confirmation of `/forget` can
    still go out after the owner is gone; `/forget` deletes the owner's earlier items itself."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_owner", "channel", "workspace", "user_id", "id"),
        Index("ix_outbox_due", "channel", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64), default="")
    user_id: Mapped[str] = mapped_column(String(64))
    address: Mapped[dict[str, Any]] = mapped_column(JSON)  # where the adapter delivers it (a chat id)
    reply: Mapped[dict[str, Any]] = mapped_column(JSON)
    said: Mapped[str | None] = mapped_column(Text)  # the owner's text this turn stored as an answer
    said_ref: Mapped[str | None] = mapped_column(String(64))  # that text's platform message id
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending, sent, dropped
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # not before: a lease or a back-off
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_ref: Mapped[str | None] = mapped_column(String(64))  # the platform id of the message that carried it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
