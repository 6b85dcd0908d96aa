"""Chain activity for indexer tests and benchmarks: every event kind, and consent grants in bulk.

- `mixed_activity`: a small realistic history through the contracts (roles, datasets and versions,
  withdrawals, attestations, consents granted/re-granted/revoked directly and by signature, access
  requested/granted/refused/ended, releases, rights requests filed/answered/withdrawn).
- `bulk_grants`: many ConsentGranted events fast: EIP-712 grants signed locally (digest computed by
  hand, secp256k1 via eth_keys; coincurve makes that ~60 us) and submitted 128 per transaction with
  `grant_batch_by_sig` by an unlocked devnet account through raw JSON-RPC batches.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from eth_abi import encode as abi_encode
from eth_keys import keys
from eth_utils import keccak

from ..codes import ANY_RESEARCHER, DOMAINS, PURPOSES, SCOPE_DATASET, SCOPE_DOMAIN, SCOPE_PUBLISHER, purpose_hash

GRANT_TYPEHASH = keccak(
    text="Grant(address citizen,bytes32 purpose,uint8 scopeKind,bytes32 scopeId,address grantee,uint64 expiry,uint64 nonce,uint256 deadline)"
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


def sign_digest(key: keys.PrivateKey, digest: bytes) -> bytes:
    sig = key.sign_msg_hash(digest)
    return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])


@dataclass
class BulkGranter:
    """Signs and submits consent grants from `citizens` synthetic citizens (keys derived from a seed)."""

    rpc_url: str
    chain_id: int
    consent_address: str
    sender: str  # an unlocked account of the node (anvil's dev accounts)
    citizens: int = 256
    seed: int = 1
    nonces: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        from .rpc import Rpc

        self.rpc = Rpc(self.rpc_url, timeout=120)
        self.separator = domain_separator(self.chain_id, self.consent_address)
        self.keys = [keys.PrivateKey(keccak(text=f"cityledger-loadgen:{self.seed}:{i}")) for i in range(self.citizens)]
        self.addresses = [k.public_key.to_checksum_address() for k in self.keys]
        self.purposes = [purpose_hash(p) for p in PURPOSES]
        self.rng = random.Random(self.seed)

    def _grant(self, now: int) -> tuple:
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
        self, events: int, per_tx: int = MAX_BATCH, txs_per_request: int = 4, backpressure_txs: int = 100
    ) -> list[str]:
        """Submit `events` grants (per_tx per transaction); returns the tx hashes (all mined on return)."""
        now = int(self.rpc.header(self.rpc.block_number())["timestamp"], 16)
        # Explicit sender nonces: the node may handle the calls of one HTTP batch in any order, and
        # two grants of one key in different transactions must be mined in signing order.
        tx_nonce = int(self.rpc.call("eth_getTransactionCount", [self.sender, "pending"]), 16)
        hashes: list[str] = []
        pending: list[tuple[str, list]] = []
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
                if len(hashes) % backpressure_txs < txs_per_request:
                    # Let the node mine what it has before sending more (its pool is bounded).
                    self._check(hashes[-1:])
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


def mixed_activity(chain, rounds: int = 1, seed: int = 7) -> int:
    """Every event kind through the deployed contracts (a devnet fixture object); returns events emitted."""
    from ..chain.accounts import AGENCY, AUDITOR, BUSINESS, CITIZENS, RELAYER, RESEARCHER
    from ..chain.tx import transact

    rng = random.Random(seed)
    w3, acc = chain.w3, chain.accounts
    roles, ds, consent, access, rights = (
        chain.contract(n)
        for n in ("CityRoles", "DatasetRegistry", "ConsentRegistry", "AccessRegistry", "RightsRegistry")
    )
    admin, agency, business, auditor, researcher = acc[0], acc[AGENCY], acc[BUSINESS], acc[AUDITOR], acc[RESEARCHER]
    citizens = [acc[i] for i in CITIZENS]
    events = 0

    def tx(account, fn) -> int:
        receipt = transact(w3, account, fn)
        return len(receipt["logs"])

    def h(label: str) -> bytes:
        return keccak(text=f"{seed}:{label}")

    for r in range(rounds):
        tag = f"{seed}-{r}-{rng.random()}"
        # Roles: a second researcher granted and later revoked.
        extra = citizens[r % len(citizens)].address
        events += tx(admin, roles.functions.grant_role(extra, 4, 0))
        # Datasets: v1 by the agency, v2 supersedes it, another by the business later withdrawn.
        before = ds.functions.dataset_count().call()
        events += tx(
            agency, ds.functions.register(h("c1" + tag), h("m1" + tag), f"ipfs://meta/{tag}/1.json", 7, True, 0)
        )
        v1 = before + 1
        events += tx(
            agency, ds.functions.register(h("c2" + tag), h("m2" + tag), f"ipfs://meta/{tag}/2.json", 7, True, v1)
        )
        v2 = v1 + 1
        events += tx(
            business, ds.functions.register(h("c3" + tag), h("m3" + tag), f"https://b.example/{tag}.json", 4, False, 0)
        )
        v3 = v2 + 1
        att = ds.functions.attestation_count().call() + 1
        events += tx(auditor, ds.functions.attest(v2, 1, h("report" + tag)))
        events += tx(auditor, ds.functions.attest(v3, 2, h("report3" + tag)))
        events += tx(auditor, ds.functions.revoke_attestation(att + 1))
        # Consents: direct grants (dataset, publisher, domain scopes), a re-grant, a revoke.
        p = purpose_hash("ScientificResearch")
        now = w3.eth.get_block("latest")["timestamp"]
        for i, c in enumerate(citizens):
            events += tx(
                c,
                consent.functions.grant(
                    p, SCOPE_DATASET, v2.to_bytes(32, "big"), ANY_RESEARCHER, now + 86400 * (30 + i)
                ),
            )
            events += tx(
                c,
                consent.functions.grant(
                    p,
                    SCOPE_PUBLISHER,
                    bytes(12) + bytes.fromhex(agency.address[2:]),
                    researcher.address,
                    now + 86400 * 90,
                ),
            )
        events += tx(
            citizens[0],
            consent.functions.grant(p, SCOPE_DATASET, v2.to_bytes(32, "big"), ANY_RESEARCHER, now + 86400 * 400),
        )
        events += tx(citizens[1], consent.functions.revoke(p, SCOPE_DATASET, v2.to_bytes(32, "big"), ANY_RESEARCHER))
        # A grant submitted by the relayer with the citizen's signature.
        sep = domain_separator(w3.eth.chain_id, consent.address)
        c = citizens[2]
        scope = (3).to_bytes(32, "big")
        key = consent.functions.consent_key(c.address, p, SCOPE_DOMAIN, scope, ANY_RESEARCHER).call()
        nonce = consent.functions.nonce_of(key).call()
        digest = grant_digest(
            sep, c.address, p, SCOPE_DOMAIN, scope, ANY_RESEARCHER, now + 86400 * 60, nonce, now + 3600
        )
        sig = sign_digest(keys.PrivateKey(c.key), digest)
        events += tx(
            acc[RELAYER],
            consent.functions.grant_by_sig(
                c.address, p, SCOPE_DOMAIN, scope, ANY_RESEARCHER, now + 86400 * 60, now + 3600, sig
            ),
        )
        # Access: requested and granted, one refused, one ended; a release under the granted one.
        a0 = access.functions.access_count().call()
        events += tx(researcher, access.functions.request_access(v2, p, h("terms" + tag)))
        events += tx(researcher, access.functions.request_access(v3, p, h("terms3" + tag)))
        events += tx(researcher, access.functions.request_access(v2, purpose_hash("Marketing"), h("terms4" + tag)))
        events += tx(agency, access.functions.grant_access(a0 + 1, now + 86400 * 30))
        events += tx(business, access.functions.refuse_access(a0 + 2, h("no" + tag)))
        events += tx(agency, access.functions.grant_access(a0 + 3, now + 86400 * 30))
        events += tx(researcher, access.functions.end_access(a0 + 3))
        events += tx(
            agency,
            access.functions.log_release(a0 + 1, v2, 3, h("root" + tag), w3.eth.block_number, h("release" + tag)),
        )
        # Dataset withdrawn after use.
        events += tx(business, ds.functions.withdraw(v3, h("reason" + tag)))
        # Rights: one answered, one withdrawn, one left open.
        r0 = rights.functions.request_count().call()
        events += tx(citizens[0], rights.functions.file_request(3, 2, v2.to_bytes(32, "big"), h("erase" + tag)))
        events += tx(
            citizens[1],
            rights.functions.file_request(1, 1, bytes(12) + bytes.fromhex(business.address[2:]), h("access" + tag)),
        )
        events += tx(citizens[2], rights.functions.file_request(6, 2, v2.to_bytes(32, "big"), h("object" + tag)))
        events += tx(agency, rights.functions.answer_request(r0 + 1, True, h("answer" + tag)))
        events += tx(citizens[1], rights.functions.withdraw_request(r0 + 2))
        events += tx(admin, roles.functions.revoke_role(extra, 4))
    return events
