"""Other county platforms this hub forwards 跨域办 cases to, what each answered per event, and how much
of each file it holds."""

from __future__ import annotations

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from sync.hub.models.base import BaseModel, utcnow


class Peer(BaseModel):
    """A county hub that handles some items this county's stations collect (异地代收代办).

    This hub is a "station" there (``station_code`` with ``secret``, sealed like station secrets),
    so forwarding is the same signed protocol a station speaks. ``changes_cursor`` is how far its
    changes feed has been applied here.
    """

    area_code = CharField(max_length=12, unique=True)  # the peer county's 6-digit code
    name = CharField(max_length=100)
    url = CharField(max_length=300)
    station_code = CharField(max_length=32)
    secret = CharField(max_length=512)
    active = BooleanField(default=True)
    changes_cursor = BigIntegerField(default=0)
    last_error = TextField(default="")
    last_contact_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class PeerForward(BaseModel):
    """The peer's final answer to one forwarded event: ``acked`` (accepted or duplicate) or ``set_aside``.

    An event with no row here is still to forward (a retryable answer writes nothing), so the
    queue is "events of cross-area cases without a row" and nothing can be skipped by a cursor.
    """

    event_id = CharField(max_length=36, unique=True)
    peer = ForeignKeyField(Peer, on_delete="CASCADE")
    case_id = CharField(max_length=36, index=True)
    seq = IntegerField()
    state = CharField(max_length=16)
    code = CharField(max_length=32, null=True)
    reason = TextField(null=True)
    answered_at = DateTimeField(default=utcnow)


class PeerFile(BaseModel):
    """How much of one file a peer holds, as it last said: the per-file progress on the peers page.

    The forward round writes it from the peer's status answer and after each chunk the peer took
    (``held == size``: the peer holds the whole file). Only for people to read: a resumed upload
    always starts from the peer's own status answer, never from this row.
    """

    peer = ForeignKeyField(Peer, on_delete="CASCADE")
    sha256 = CharField(max_length=64)
    size = BigIntegerField()
    held = BigIntegerField(default=0)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("peer", "sha256"), True),)


class PeerHandover(BaseModel):
    """The peer's final answer to one handover of a batch of its cases' originals this hub forwarded to it.

    As :class:`PeerForward` for events: a handover with no row here is still to forward (a network
    failure or a retryable answer writes nothing), ``acked`` once the peer stored it or already had
    it, ``set_aside`` with the peer's reason when it refused it (shown on the peers page).
    """

    handover_id = CharField(max_length=80)  # this hub's id of the handover (HubTransferHandover)
    peer = ForeignKeyField(Peer, on_delete="CASCADE")
    batch_no = CharField(max_length=40)
    state = CharField(max_length=16)
    reason = TextField(null=True)
    answered_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("peer", "handover_id"), True),)
