"""The relayer's outbox and rate limits (api/relay_store.py), in the store beside the index.

Not chain data: written by the API's relayer, never by the indexer, never rolled back or reset.
They are on models.Base (models.py imports this module at its end) so that the migrations and the
models compare equal. Addresses and hashes follow models.py's conventions; times are unix seconds.
No personal data: a citizen is the pseudonymous address that is on chain anyway.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Double, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import NO_ROWID, Address, Base, BigId, Hash


class RelaySender(Base):
    """The relayer account's next nonce on a chain, allocated under the sender lock."""

    __tablename__ = "relay_senders"
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sender: Mapped[str] = mapped_column(Address, primary_key=True)
    next_nonce: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class RelayRequest(Base):
    """One relayed grant or revoke and its transaction (the latest signed attempt, kept so that it can
    be broadcast again): status pending -> mined | reverted, or failed (never sent)."""

    __tablename__ = "relay_requests"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    sender: Mapped[str] = mapped_column(Address)
    nonce: Mapped[int] = mapped_column(BigInteger)  # the relayer account's
    contract: Mapped[str] = mapped_column(Address)  # ConsentRegistry: the transaction's `to`
    action: Mapped[str] = mapped_column(String(8))  # "grant" | "revoke"
    citizen: Mapped[str] = mapped_column(Address)
    consent_key: Mapped[str] = mapped_column(Hash)
    consent_nonce: Mapped[int] = mapped_column(BigInteger)  # the nonce the citizen signed
    digest: Mapped[str] = mapped_column(Hash, index=True)  # the EIP-712 digest signed
    data: Mapped[str] = mapped_column(Text)  # calldata, 0x hex
    gas: Mapped[int] = mapped_column(BigInteger)
    max_fee: Mapped[int] = mapped_column(BigInteger)  # maxFeePerGas (gasPrice on a pre-London chain)
    tip: Mapped[int | None] = mapped_column(BigInteger)  # maxPriorityFeePerGas; NULL: a legacy transaction
    tx_hash: Mapped[str] = mapped_column(Hash)  # the latest attempt
    raw: Mapped[str] = mapped_column(Text)  # the latest attempt, signed (0x hex)
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[int] = mapped_column(BigInteger)  # the latest attempt's broadcast
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    worker: Mapped[str] = mapped_column(String(80))  # host:pid of the API worker that accepted it
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # The store's own guard against a nonce collision, whatever a lock did.
        UniqueConstraint("chain_id", "sender", "nonce"),
        Index(None, "contract", "consent_key", "consent_nonce"),
    )


class RelayAttempt(Base):
    """Every transaction hash a request was sent as (a fee bump signs a new one): any of them finds it."""

    __tablename__ = "relay_attempts"
    tx_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    request_id: Mapped[int] = mapped_column(BigInteger, index=True)
    attempt: Mapped[int] = mapped_column(Integer)  # 1, 2, ...: the request's attempts in order
    max_fee: Mapped[int] = mapped_column(BigInteger)
    tip: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (NO_ROWID,)


class RelayLimit(Base):
    """A token bucket of the relayer's rate limits, shared by every API worker (keys such as
    "citizen:0x..." and "client:10.0.0.1"): `tokens` left at `at` (unix seconds, fractional), and
    whether the last take got a token (`ok`)."""

    __tablename__ = "relay_limits"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    tokens: Mapped[float] = mapped_column(Double)
    at: Mapped[float] = mapped_column(Double, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (NO_ROWID,)
