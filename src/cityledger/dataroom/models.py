"""The data room's tables, in the indexer's store (one database for every API worker): sign-in
nonces and sessions, the releases the data room made (and those it is making), the private answers
it gave, download links and deliveries (docs/DATAROOM.md).

Not chain data: a reorg rollback or `cityledger index --reset` leaves them alone (they are not in
DATA_TABLES). Secrets are never stored: a session id and a link token are kept as their SHA-256.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..indexer.models import NO_ROWID, Address, Base, BigId, Hash


class SignInNonce(Base):
    """A nonce issued by POST /api/auth/nonce: valid until `expires_at`, deleted when used."""

    __tablename__ = "dataroom_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)

    __table_args__ = (NO_ROWID,)


class SignInSession(Base):
    """A signed-in wallet; `id_hash` is the SHA-256 of the cookie's random id."""

    __tablename__ = "dataroom_sessions"
    id_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    address: Mapped[str] = mapped_column(Address, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)

    __table_args__ = (NO_ROWID,)


class RoomRelease(Base):
    """A release the data room made and logged (its file is in the store, by `sha256`)."""

    __tablename__ = "dataroom_releases"
    release_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    access_id: Mapped[int] = mapped_column(BigInteger, index=True)
    dataset_id: Mapped[int] = mapped_column(BigInteger)
    grantee: Mapped[str] = mapped_column(Address, index=True)
    sha256: Mapped[str] = mapped_column(Hash)
    size: Mapped[int] = mapped_column(BigInteger)
    rows_in: Mapped[int] = mapped_column(BigInteger)
    rows_out: Mapped[int] = mapped_column(BigInteger)
    snapshot_hash: Mapped[str] = mapped_column(Hash)
    tx_hash: Mapped[str] = mapped_column(Hash)
    created_at: Mapped[int] = mapped_column(BigInteger)


class PendingRelease(Base):
    """A release whose log_release transaction is signed but not yet known to be mined, recorded
    before it is sent: after a crash the data room finds it by `tx_hash` and finishes it (a
    `dataroom_releases` row) or drops it (the transaction failed, or `nonce` went to another one).
    The file waits in `spool` (a path under the data folder) until then."""

    __tablename__ = "dataroom_pending_releases"
    tx_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    operator: Mapped[str] = mapped_column(Address)
    nonce: Mapped[int] = mapped_column(BigInteger)
    access_id: Mapped[int] = mapped_column(BigInteger)
    dataset_id: Mapped[int] = mapped_column(BigInteger)
    grantee: Mapped[str] = mapped_column(Address)
    sha256: Mapped[str] = mapped_column(Hash)
    size: Mapped[int] = mapped_column(BigInteger)
    rows_in: Mapped[int] = mapped_column(BigInteger)
    rows_out: Mapped[int] = mapped_column(BigInteger)
    snapshot_hash: Mapped[str] = mapped_column(Hash)
    spool: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (NO_ROWID,)


class StoredAnswer(Base):
    """A private answer the data room computed, kept for its grantee: recorded (query_id null) after
    log_query is signed and before it is sent, completed with the on-chain record once mined, so an
    answer whose epsilon was spent is never lost to a crash or a dropped connection (pending.py)."""

    __tablename__ = "dataroom_answers"
    tx_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    operator: Mapped[str] = mapped_column(Address)
    nonce: Mapped[int] = mapped_column(BigInteger)
    access_id: Mapped[int] = mapped_column(BigInteger, index=True)
    grantee: Mapped[str] = mapped_column(Address)
    query_hash: Mapped[str] = mapped_column(Hash, index=True)
    answer: Mapped[str] = mapped_column(Text)  # the answer as the API returned it (JSON)
    query_id: Mapped[int | None] = mapped_column(BigInteger)  # null until its log_query is mined
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (NO_ROWID,)


class DownloadLink(Base):
    """A short-lived link to a release file, bound to the session it was made for."""

    __tablename__ = "dataroom_links"
    token_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    release_id: Mapped[int] = mapped_column(BigInteger)
    session_hash: Mapped[str] = mapped_column(Hash)
    address: Mapped[str] = mapped_column(Address)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)

    __table_args__ = (NO_ROWID,)


class Delivery(Base):
    """One serving of a release file to its grantee: who, when, which release, bytes, SHA-256."""

    __tablename__ = "dataroom_deliveries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    release_id: Mapped[int] = mapped_column(BigInteger, index=True)
    access_id: Mapped[int] = mapped_column(BigInteger)
    dataset_id: Mapped[int] = mapped_column(BigInteger)
    recipient: Mapped[str] = mapped_column(Address, index=True)
    delivered_at: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(Hash)


class SenderLease(Base):
    """Who may send the operator's next transaction (one row per key): several API workers and the
    obligation loop take turns, so the key's nonce is never raced (dataroom/sender.py)."""

    __tablename__ = "dataroom_sender"
    address: Mapped[str] = mapped_column(Address, primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[int] = mapped_column(BigInteger)  # unix milliseconds

    __table_args__ = (NO_ROWID,)


Index("ix_dataroom_links_release", DownloadLink.release_id)
