"""Chain activity for indexer tests and benchmarks: every event kind, and consent grants in bulk.

- `mixed_activity`: a small realistic history through the contracts (roles and organisation
  profiles, datasets and versions, withdrawals, attestations, consents granted/re-granted/revoked
  directly and by signature, a batch with a skipped entry, cancelled signatures, access
  requested/granted/refused/cancelled/ended, release operators, releases, privacy budgets and private
  queries, deletion obligations requested and confirmed, rights requests filed/answered/rejected/withdrawn).
- `bulk_grants`: many ConsentGranted events fast: EIP-712 grants signed locally (digest computed by
  hand, secp256k1 via eth_keys; coincurve makes that ~60 us) and submitted 128 per transaction with
  `grant_batch_by_sig` by an unlocked devnet account through raw JSON-RPC batches.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from ..codes import ANY_RESEARCHER, DOMAINS, PURPOSES, SCOPE_DATASET, SCOPE_DOMAIN, SCOPE_PUBLISHER, purpose_hash

GRANT_TYPEHASH = keccak(
    text="Grant(address citizen,bytes32 purpose,uint8 scopeKind,bytes32 scopeId,address grantee,uint64 expiry,"
    "uint64 nonce,uint256 deadline)"
)
DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
BATCH_SELECTOR = keccak(text="grant_batch_by_sig((address,bytes32,uint8,bytes32,address,uint64,uint256,bytes)[])")[:4]
SIGNED_GRANT = "(address,bytes32,uint8,bytes32,address,uint64,uint256,bytes)"
MAX_BATCH = 128


def domain_separator(chain_id: int, consent_address: str) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPEHASH, keccak(text="CityLedger Consent"), keccak(text="1"), chain_id, consent_address],
        )
    )


def grant_digest(
    separator: bytes,
    citizen: str,
    purpose: bytes,
    scope_kind: int,
    scope_id: bytes,
    grantee: str,
    expiry: int,
    nonce: int,
    deadline: int,
) -> bytes:
    struct = keccak(
        abi_encode(
            ["bytes32", "address", "bytes32", "uint8", "bytes32", "address", "uint64", "uint64", "uint256"],
            [GRANT_TYPEHASH, citizen, purpose, scope_kind, scope_id, grantee, expiry, nonce, deadline],
        )
    )
    return keccak(b"\x19\x01" + separator + struct)


def sign_digest(key: PrivateKey, digest: bytes) -> bytes:
    sig = key.sign_msg_hash(digest)
    return int(sig.r).to_bytes(32, "big") + int(sig.s).to_bytes(32, "big") + bytes([int(sig.v) + 27])


@dataclass
class BulkGranter:
    """Signs and submits consent grants from `citizens` synthetic citizens (keys derived from a seed)."""

    rpc_url: str
    chain_id: int
    consent_address: str
    sender: str  # an unlocked account of the node (anvil's dev accounts)
    citizens: int = 256
    seed: int = 1
    nonces: dict[tuple[int, bytes, bytes], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from .rpc import Rpc

        self.rpc = Rpc(self.rpc_url, timeout=120)
        self.separator = domain_separator(self.chain_id, self.consent_address)
        self.keys = [PrivateKey(keccak(text=f"cityledger-loadgen:{self.seed}:{i}")) for i in range(self.citizens)]
        self.addresses = [k.public_key.to_checksum_address() for k in self.keys]
        self.purposes = [purpose_hash(p) for p in PURPOSES]
        self.rng = random.Random(self.seed)

    def _grant(self, now: int) -> tuple[Any, ...]:
        i = self.rng.randrange(self.citizens)
        purpose = self.rng.choice(self.purposes)
        scope_id = self.rng.randint(1, len(DOMAINS)).to_bytes(32, "big")
        citizen = self.addresses[i]
        k = (i, purpose, scope_id)
        nonce = self.nonces.get(k, 0)
        self.nonces[k] = nonce + 1
        expiry, deadline = now + 365 * 86400, now + 30 * 86400
        digest = grant_digest(
            self.separator, citizen, purpose, SCOPE_DOMAIN, scope_id, ANY_RESEARCHER, expiry, nonce, deadline
        )
        return (
            citizen,
            purpose,
            SCOPE_DOMAIN,
            scope_id,
            ANY_RESEARCHER,
            expiry,
            deadline,
            sign_digest(self.keys[i], digest),
        )

    def submit(
        self,
        events: int,
        per_tx: int = MAX_BATCH,
        txs_per_request: int = 4,
        backpressure_txs: int = 100,
        wait: bool = True,
    ) -> list[str]:
        """Submit `events` grants (per_tx per transaction); returns the tx hashes (all mined on return,
        unless not `wait`: then the caller mines them, e.g. all in one block with automine off)."""
        latest = self.rpc.header(self.rpc.block_number())
        if latest is None:
            raise RuntimeError("the node has no header for its own head block")
        now = int(latest["timestamp"], 16)
        # Explicit sender nonces: the node may handle the calls of one HTTP batch in any order, and
        # two grants of one key in different transactions must be mined in signing order.
        tx_nonce = int(self.rpc.call("eth_getTransactionCount", [self.sender, "pending"]), 16)
        hashes: list[str] = []
        pending: list[tuple[str, list[Any]]] = []
        left = events
        while left > 0:
            n = min(per_tx, left)
            left -= n
            grants = [self._grant(now) for _ in range(n)]
            data = "0x" + (BATCH_SELECTOR + abi_encode([f"{SIGNED_GRANT}[]"], [grants])).hex()
            tx = {
                "from": self.sender,
                "to": self.consent_address,
                "data": data,
                "gas": hex(400_000 + 90_000 * n),
                "nonce": hex(tx_nonce),
            }
            tx_nonce += 1
            pending.append(("eth_sendTransaction", [tx]))
            if len(pending) >= txs_per_request or left == 0:
                hashes += self.rpc.batch(pending)
                pending = []
                if wait and len(hashes) % backpressure_txs < txs_per_request:
                    # Let the node mine what it has before sending more (its pool is bounded).
                    self._check(hashes[-1:])
        if wait:
            self._check(hashes[-1:])  # one sender, consecutive nonces: the last mined means all mined
        return hashes

    def _check(self, hashes: list[str], timeout: float = 120) -> None:
        import time

        end = time.monotonic() + timeout
        for h in hashes:
            while (receipt := self.rpc.call("eth_getTransactionReceipt", [h])) is None:
                if time.monotonic() > end:
                    raise RuntimeError(f"bulk grant tx {h} not mined after {timeout}s")
                time.sleep(0.05)
            if int(receipt["status"], 16) != 1:
                raise RuntimeError(f"bulk grant tx {h} failed: {receipt}")


class ActivityChain(Protocol):
    """A deployed devnet as mixed_activity uses it (cityledger.testing.DevnetChain)."""

    w3: Web3
    accounts: list[LocalAccount]

    def contract(self, name: str) -> Contract: ...


def mixed_activity(chain: ActivityChain, rounds: int = 1, seed: int = 7) -> int:
    """Every event kind through the deployed contracts (a devnet fixture object); returns events emitted."""
    activity = _Activity(chain, seed)
    return sum(activity.round(r) for r in range(rounds))


class _Activity:
    """One round: roles, datasets and versions, attestations, consents (direct and signed), access
    and a release, a withdrawal, rights requests; each method returns the events it emitted."""

    def __init__(self, chain: ActivityChain, seed: int):
        from ..chain.accounts import AGENCY, AUDITOR, BUSINESS, CITIZENS, RELAYER, RESEARCHER

        self.rng, self.seed = random.Random(seed), seed
        self.w3, acc = chain.w3, chain.accounts
        self.roles, self.ds, self.consent, self.access, self.rights, self.deletion = (
            chain.contract(n)
            for n in (
                "CityRoles",
                "DatasetRegistry",
                "ConsentRegistry",
                "AccessRegistry",
                "RightsRegistry",
                "DeletionRegistry",
            )
        )
        self.admin, self.agency, self.business = acc[0], acc[AGENCY], acc[BUSINESS]
        self.auditor, self.researcher, self.relayer = acc[AUDITOR], acc[RESEARCHER], acc[RELAYER]
        self.citizens = [acc[i] for i in CITIZENS]
        self.purpose = purpose_hash("ScientificResearch")

    def tx(self, account: LocalAccount, fn: Any) -> int:
        from ..chain.tx import transact

        return len(transact(self.w3, account, fn)["logs"])

    def h(self, label: str) -> bytes:
        return keccak(text=f"{self.seed}:{label}")

    def round(self, r: int) -> int:
        tag = f"{self.seed}-{r}-{self.rng.random()}"
        # Roles: a second researcher granted and later revoked; the agency's organisation profile.
        extra = self.citizens[r % len(self.citizens)].address
        events = self.tx(self.admin, self.roles.functions.grant_role(extra, 4, 0))
        profile = self.h("profile" + tag)
        uri = f"cityledger://metadata/{profile.hex()}"
        events += self.tx(self.admin, self.roles.functions.set_profile(self.agency.address, profile, uri))
        v2, v3, n = self._datasets(tag)
        events += n
        now = self.w3.eth.get_block("latest")["timestamp"]
        events += self._consents(v2, now) + self._access(v2, v3, now, tag)
        # Dataset withdrawn after use.
        events += self.tx(self.business, self.ds.functions.withdraw(v3, self.h("reason" + tag)))
        events += self._rights(v2, tag)
        return events + self.tx(self.admin, self.roles.functions.revoke_role(extra, 4))

    def _datasets(self, tag: str) -> tuple[int, int, int]:
        """v1 by the agency, v2 superseding it, v3 by the business (withdrawn later); attestations on
        v2 and v3, the latter revoked. Returns (v2, v3, events)."""
        ds, h = self.ds, self.h
        before = ds.functions.dataset_count().call()
        events = self.tx(
            self.agency, ds.functions.register(h("c1" + tag), h("m1" + tag), f"ipfs://meta/{tag}/1.json", 7, True, 0)
        )
        v1 = before + 1
        events += self.tx(
            self.agency, ds.functions.register(h("c2" + tag), h("m2" + tag), f"ipfs://meta/{tag}/2.json", 7, True, v1)
        )
        v2 = v1 + 1
        uri = f"https://b.example/{tag}.json"
        events += self.tx(self.business, ds.functions.register(h("c3" + tag), h("m3" + tag), uri, 4, False, 0))
        v3 = v2 + 1
        att = ds.functions.attestation_count().call() + 1
        events += self.tx(self.auditor, ds.functions.attest(v2, 1, h("report" + tag)))
        events += self.tx(self.auditor, ds.functions.attest(v3, 2, h("report3" + tag)))
        events += self.tx(self.auditor, ds.functions.revoke_attestation(att + 1))
        return v2, v3, events

    def _consents(self, v2: int, now: int) -> int:
        """Direct grants (dataset, publisher, domain scopes), a re-grant, a revoke, and a grant the
        relayer submits with the citizen's signature."""
        consent, p, citizens = self.consent, self.purpose, self.citizens
        on_v2 = v2.to_bytes(32, "big")
        of_agency = bytes(12) + bytes.fromhex(self.agency.address[2:])
        events = 0
        for i, c in enumerate(citizens):
            events += self.tx(
                c, consent.functions.grant(p, SCOPE_DATASET, on_v2, ANY_RESEARCHER, now + 86400 * (30 + i))
            )
            events += self.tx(
                c, consent.functions.grant(p, SCOPE_PUBLISHER, of_agency, self.researcher.address, now + 86400 * 90)
            )
        events += self.tx(
            citizens[0], consent.functions.grant(p, SCOPE_DATASET, on_v2, ANY_RESEARCHER, now + 86400 * 400)
        )
        events += self.tx(citizens[1], consent.functions.revoke(p, SCOPE_DATASET, on_v2, ANY_RESEARCHER))
        c, scope = citizens[2], (3).to_bytes(32, "big")
        expiry, deadline = now + 86400 * 60, now + 3600
        sig = self._signed(c, SCOPE_DOMAIN, scope, expiry, deadline)
        by_sig = consent.functions.grant_by_sig(
            c.address, p, SCOPE_DOMAIN, scope, ANY_RESEARCHER, expiry, deadline, sig
        )
        events += self.tx(self.relayer, by_sig)
        # A batch whose second entry is stale (its deadline passed): applied but one, which is skipped.
        c3 = citizens[3]
        fresh = (c3.address, p, SCOPE_DOMAIN, scope, ANY_RESEARCHER, expiry, deadline)
        stale = (c.address, p, SCOPE_DOMAIN, scope, ANY_RESEARCHER, expiry, now - 1)
        batch = [(*fresh, self._signed(c3, SCOPE_DOMAIN, scope, expiry, deadline)), (*stale, sig)]
        events += self.tx(self.relayer, consent.functions.grant_batch_by_sig(batch))
        # A citizen voids a signature it gave but nobody submitted (a publisher-scope grant never made).
        of_business = bytes(12) + bytes.fromhex(self.business.address[2:])
        return events + self.tx(
            c3, consent.functions.cancel_signatures(p, SCOPE_PUBLISHER, of_business, ANY_RESEARCHER)
        )

    def _signed(self, citizen: LocalAccount, scope_kind: int, scope: bytes, expiry: int, deadline: int) -> bytes:
        """The citizen's EIP-712 grant signature (research purpose, any researcher) at its key's nonce."""
        consent, p = self.consent, self.purpose
        key = consent.functions.consent_key(citizen.address, p, scope_kind, scope, ANY_RESEARCHER).call()
        nonce = consent.functions.nonce_of(key).call()
        sep = domain_separator(self.w3.eth.chain_id, consent.address)
        digest = grant_digest(sep, citizen.address, p, scope_kind, scope, ANY_RESEARCHER, expiry, nonce, deadline)
        return sign_digest(PrivateKey(citizen.key), digest)

    def _access(self, v2: int, v3: int, now: int, tag: str) -> int:
        """Requested and granted, one refused, one cancelled, one ended; a release under the granted one
        logged by the agency's release operator (the relayer's account), a privacy budget and a private
        query; the release's first subject asks for the deletion of its rows and the researcher confirms."""
        from ..fingerprint.consent_tree import ConsentTree

        access, h, p, researcher = self.access, self.h, self.purpose, self.researcher
        a0 = access.functions.access_count().call()
        events = self.tx(researcher, access.functions.request_access(v2, p, h("terms" + tag)))
        events += self.tx(researcher, access.functions.request_access(v3, p, h("terms3" + tag)))
        events += self.tx(researcher, access.functions.request_access(v2, purpose_hash("Marketing"), h("terms4" + tag)))
        events += self.tx(researcher, access.functions.request_access(v2, purpose_hash("PublicBenefit"), h("t5" + tag)))
        events += self.tx(self.agency, access.functions.grant_access(a0 + 1, now + 86400 * 30))
        events += self.tx(self.business, access.functions.refuse_access(a0 + 2, h("no" + tag)))
        events += self.tx(self.agency, access.functions.grant_access(a0 + 3, now + 86400 * 30))
        events += self.tx(researcher, access.functions.end_access(a0 + 3))
        events += self.tx(researcher, access.functions.cancel_request(a0 + 4))
        operator = self.relayer
        events += self.tx(self.agency, access.functions.set_release_operator(operator.address, True))
        snapshot = self.w3.eth.block_number
        tree = ConsentTree.build(c.address for c in self.citizens[:3])
        root, release_hash, k = tree.root, h("release" + tag), 5
        r0 = access.functions.release_count().call()
        events += self.tx(
            operator, access.functions.log_release(a0 + 1, v2, len(tree), root, snapshot, release_hash, k)
        )
        events += self.tx(self.agency, access.functions.set_privacy_budget(a0 + 1, 2_000_000))
        query = access.functions.log_query(a0 + 1, v2, 500_000, h("query" + tag), root, snapshot, len(tree))
        events += self.tx(operator, query)
        events += self.tx(self.agency, access.functions.set_release_operator(operator.address, False))
        subject = self.citizens[0]
        o0 = self.deletion.functions.obligation_count().call()
        proof = tree.proof(subject.address)
        request = self.deletion.functions.request_deletion(r0 + 1, subject.address, root, release_hash, k, proof)
        events += self.tx(subject, request)
        return events + self.tx(researcher, self.deletion.functions.confirm_deletion(o0 + 1, h("deleted" + tag)))

    def _rights(self, v2: int, tag: str) -> int:
        """One request answered, one withdrawn, one rejected, one left open. The one left open is
        filed by the citizen with the fewest open requests to v2's publisher (the agency): the
        contract caps open requests per citizen and publisher (MAX_OPEN_REQUESTS), and the same
        citizen every round would hit the cap after 16 rounds on one chain."""
        rights, h, citizens = self.rights, self.h, self.citizens
        r0 = rights.functions.request_count().call()
        on_v2, of_business = v2.to_bytes(32, "big"), bytes(12) + bytes.fromhex(self.business.address[2:])
        objector = min(citizens, key=lambda c: rights.functions.open_requests(c.address, self.agency.address).call())
        events = self.tx(citizens[0], rights.functions.file_request(3, 2, on_v2, h("erase" + tag)))
        events += self.tx(citizens[1], rights.functions.file_request(1, 1, of_business, h("access" + tag)))
        events += self.tx(objector, rights.functions.file_request(6, 2, on_v2, h("object" + tag)))
        events += self.tx(citizens[3], rights.functions.file_request(8, 2, on_v2, h("automated" + tag)))
        events += self.tx(self.agency, rights.functions.answer_request(r0 + 1, 2, h("answer" + tag)))
        events += self.tx(self.agency, rights.functions.answer_request(r0 + 4, 5, h("rejected" + tag)))
        return events + self.tx(citizens[1], rights.functions.withdraw_request(r0 + 2))
