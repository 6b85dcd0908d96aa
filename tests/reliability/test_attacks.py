"""Attack catalogue against a deployed devnet: role escalation and signature replay, each rejected
with its revert reason and with nothing changed; and a scan of the contract sources proving every
loop is bounded.

(The contracts' own hypothesis stateful tests are in tests/contracts/; this file attacks the
deployed system the way an outsider would: real transactions through the node.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_keys import keys

from cityledger.chain.accounts import AGENCY, CITIZENS, RELAYER, RESEARCHER
from cityledger.chain.tx import TransactionFailed, transact
from cityledger.codes import ANY_RESEARCHER, ROLE_AUDITOR, ROLE_PUBLISHER, ROLE_RESEARCHER, SCOPE_DOMAIN, purpose_hash
from cityledger.indexer.loadgen import domain_separator, grant_digest, sign_digest

ROOT = Path(__file__).resolve().parents[2]
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
PURPOSE = purpose_hash("ScientificResearch")
SCOPE = (4).to_bytes(32, "big")
NOT_ADMIN = "roles: caller is not the admin"
BAD_SIG = "consent: invalid signature"


def rejected(w3, account, fn, reason: str) -> None:
    with pytest.raises(TransactionFailed) as info:
        transact(w3, account, fn)
    assert info.value.reason == reason, f"expected {reason!r}, got {info.value.reason!r}"


# ------------------------------------------------------------------ role escalation


def test_role_escalation_rejected(devnet):
    w3, acc = devnet.w3, devnet.accounts
    roles = devnet.contract("CityRoles")
    admin, publisher, researcher, outsider = acc[0], acc[AGENCY], acc[RESEARCHER], acc[CITIZENS[0]]
    before = {a.address: roles.functions.roles_of(a.address).call() for a in acc}
    attempts = [
        (outsider, roles.functions.grant_role(outsider.address, ROLE_PUBLISHER, 1)),  # anyone makes itself publisher
        (researcher, roles.functions.grant_role(researcher.address, ROLE_AUDITOR, 0)),
        (publisher, roles.functions.grant_role(publisher.address, ROLE_AUDITOR, 0)),  # publisher -> auditor
        (publisher, roles.functions.grant_role(outsider.address, ROLE_RESEARCHER, 0)),  # publisher recruits
        (researcher, roles.functions.revoke_role(publisher.address, ROLE_PUBLISHER)),  # knock out a rival
    ]
    for account, fn in attempts:
        rejected(w3, account, fn, NOT_ADMIN)
    # Two-step admin transfer: only the owner starts it, only the named new owner completes it.
    rejected(w3, outsider, roles.functions.transfer_ownership(outsider.address), "ownable: caller is not the owner")
    transact(w3, admin, roles.functions.transfer_ownership(acc[CITIZENS[1]].address))
    rejected(w3, outsider, roles.functions.accept_ownership(), "ownable_2step: caller is not the new owner")
    rejected(w3, publisher, roles.functions.accept_ownership(), "ownable_2step: caller is not the new owner")
    # The pending owner is not admin yet.
    rejected(w3, acc[CITIZENS[1]], roles.functions.grant_role(outsider.address, ROLE_RESEARCHER, 0), NOT_ADMIN)
    assert roles.functions.owner().call() == admin.address
    # The city can never be left without an admin.
    assert "renounce_ownership" not in {f["name"] for f in roles.abi if f.get("type") == "function"}
    after = {a.address: roles.functions.roles_of(a.address).call() for a in acc}
    assert after == before


# ------------------------------------------------------------------ signature replay


class Signer:
    def __init__(self, devnet):
        self.w3 = devnet.w3
        self.consent = devnet.contract("ConsentRegistry")
        self.citizen = devnet.accounts[CITIZENS[0]]
        self.key = keys.PrivateKey(self.citizen.key)
        self.relayer = devnet.accounts[RELAYER]
        now = self.w3.eth.get_block("latest")["timestamp"]
        self.expiry, self.deadline = now + 86400 * 365, now + 3600

    def consent_key(self):
        return self.consent.functions.consent_key(
            self.citizen.address, PURPOSE, SCOPE_DOMAIN, SCOPE, ANY_RESEARCHER
        ).call()

    def nonce(self) -> int:
        return self.consent.functions.nonce_of(self.consent_key()).call()

    def grant_sig(self, *, chain_id=None, contract=None, nonce=None, deadline=None, key=None) -> bytes:
        sep = domain_separator(chain_id or self.w3.eth.chain_id, contract or self.consent.address)
        digest = grant_digest(sep, self.citizen.address, PURPOSE, SCOPE_DOMAIN, SCOPE, ANY_RESEARCHER, self.expiry,
                              self.nonce() if nonce is None else nonce, deadline or self.deadline)  # fmt: skip
        return sign_digest(key or self.key, digest)

    def grant(self, sig, deadline=None):
        return self.consent.functions.grant_by_sig(self.citizen.address, PURPOSE, SCOPE_DOMAIN, SCOPE, ANY_RESEARCHER,
                                                   self.expiry, deadline or self.deadline, sig)  # fmt: skip

    def revoke(self, sig, deadline=None):
        return self.consent.functions.revoke_by_sig(self.citizen.address, PURPOSE, SCOPE_DOMAIN, SCOPE, ANY_RESEARCHER,
                                                    deadline or self.deadline, sig)  # fmt: skip


def high_s(sig: bytes) -> bytes:
    """The same signature with s -> n - s (and v flipped): valid for plain ecrecover, malleable."""
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28


def test_signature_replay_rejected(devnet):
    s = Signer(devnet)
    w3, relayer = s.w3, s.relayer
    other_key = keys.PrivateKey(devnet.accounts[CITIZENS[1]].key)
    past = w3.eth.get_block("latest")["timestamp"] - 1
    start = s.nonce()
    attacks = {
        "another chain id": (s.grant(s.grant_sig(chain_id=1)), BAD_SIG),
        "another contract": (s.grant(s.grant_sig(contract=devnet.deployment.address("AccessRegistry"))), BAD_SIG),
        "a future nonce": (s.grant(s.grant_sig(nonce=start + 1)), BAD_SIG),
        "past deadline": (s.grant(s.grant_sig(deadline=past), deadline=past), "consent: signature deadline passed"),
        "high-s": (s.grant(high_s(s.grant_sig())), "ecdsa: invalid signature `s` value"),
        "wrong signer": (s.grant(s.grant_sig(key=other_key)), BAD_SIG),
        "64-byte signature": (s.grant(s.grant_sig()[:64]), "consent: signature must be 65 bytes"),
        "grant signature used as revoke": (s.revoke(s.grant_sig()), BAD_SIG),
    }
    for name, (fn, reason) in attacks.items():
        with pytest.raises(TransactionFailed) as info:
            transact(w3, relayer, fn)
        assert info.value.reason == reason, f"{name}: expected {reason!r}, got {info.value.reason!r}"
    assert s.nonce() == start and not s.consent.functions.is_active(*_args(s)).call()
    # The genuine signature works once; replaying it (the used nonce) is refused.
    good = s.grant_sig()
    transact(w3, relayer, s.grant(good))
    assert s.consent.functions.is_active(*_args(s)).call() and s.nonce() == start + 1
    rejected(w3, relayer, s.grant(good), BAD_SIG)
    # Now active: the grant signature (old or current nonce) still cannot revoke it.
    rejected(w3, relayer, s.revoke(good), BAD_SIG)
    rejected(w3, relayer, s.revoke(s.grant_sig()), BAD_SIG)
    # A real revoke signature works once; its replay is refused.
    digest = s.consent.functions.revoke_digest(s.citizen.address, PURPOSE, SCOPE_DOMAIN, SCOPE, ANY_RESEARCHER,
                                               s.nonce(), s.deadline).call()  # fmt: skip
    rsig = sign_digest(s.key, digest)
    transact(w3, relayer, s.revoke(rsig))
    assert not s.consent.functions.is_active(*_args(s)).call()
    rejected(w3, relayer, s.revoke(rsig), BAD_SIG)
    # A direct action by the citizen cancels an outstanding signature for the key.
    pending = s.grant_sig()
    transact(w3, s.citizen, s.consent.functions.grant(PURPOSE, SCOPE_DOMAIN, SCOPE, ANY_RESEARCHER, s.expiry))
    rejected(w3, relayer, s.grant(pending), BAD_SIG)


def _args(s: Signer):
    return s.citizen.address, PURPOSE, SCOPE_DOMAIN, SCOPE, ANY_RESEARCHER


# ------------------------------------------------------------------ bounded loops


def _loops(path: Path) -> list[tuple[int, str, int | None]]:
    """Every `for` of a Vyper source: (line, iterable, its bound or None when unbounded/unknown)."""
    import vyper.ast as va

    tree = va.parse_to_ast(path.read_text(), source_id=0)
    constants = {}
    for node in tree.get_descendants(va.nodes.VariableDecl):
        if node.is_constant and isinstance(node.value, va.nodes.Int):
            constants[node.target.id] = node.value.value

    def bound_of(annotation) -> int | None:
        # DynArray[T, N]
        if isinstance(annotation, va.nodes.Subscript) and getattr(annotation.value, "id", None) == "DynArray":
            n = annotation.slice.elements[1] if isinstance(annotation.slice, va.nodes.Tuple) else None
            if isinstance(n, va.nodes.Int):
                return n.value
            if isinstance(n, va.nodes.Name):
                return constants.get(n.id)
        return None

    out = []
    for loop in tree.get_descendants(va.nodes.For):
        it = loop.iter
        bound = None
        if isinstance(it, va.nodes.Call) and getattr(it.func, "id", None) == "range":
            kw = {k.arg: k.value for k in it.keywords}
            if "bound" in kw:
                b = kw["bound"]
                bound = b.value if isinstance(b, va.nodes.Int) else constants.get(getattr(b, "id", None))
            elif all(isinstance(a, va.nodes.Int) or getattr(a, "id", None) in constants for a in it.args):
                vals = [a.value if isinstance(a, va.nodes.Int) else constants[a.id] for a in it.args]
                bound = vals[-1] - (vals[0] if len(vals) > 1 else 0)
        elif isinstance(it, va.nodes.Name):
            fn = loop.get_ancestor(va.nodes.FunctionDef)
            for arg in fn.args.args if fn else []:
                if arg.arg == it.id:
                    bound = bound_of(arg.annotation)
            for decl in fn.get_descendants(va.nodes.AnnAssign) if fn else []:
                if getattr(decl.target, "id", None) == it.id:
                    bound = bound_of(decl.annotation)
        elif isinstance(it, va.nodes.Attribute) and getattr(it.value, "id", None) == "self":
            for decl in tree.get_descendants(va.nodes.VariableDecl):
                if decl.target.id == it.attr:
                    bound = bound_of(decl.annotation)
        out.append((loop.lineno, it.node_source_code, bound))
    return out


def test_every_loop_is_bounded():
    sources = sorted((ROOT / "contracts").glob("*.vy")) + sorted((ROOT / "contracts" / "modules").glob("*.vy"))
    assert len(sources) >= 5
    loops = {p.name: _loops(p) for p in sources}
    unbounded = [(name, line, it) for name, ls in loops.items() for line, it, b in ls if b is None]
    too_big = [(name, line, it, b) for name, ls in loops.items() for line, it, b in ls if b is not None and b > 256]
    assert not unbounded, f"loops without a static bound: {unbounded}"
    assert not too_big, f"loops bounded above 256 iterations (gas): {too_big}"
    # The scanner must find the batch loop of ConsentRegistry (bounded at 128).
    assert any(b == 128 for _, _, b in loops["ConsentRegistry.vy"]), loops["ConsentRegistry.vy"]


def test_loop_scanner_catches_an_unbounded_loop(tmp_path):
    """The scanner itself: a loop over a storage array of unknown bound and a range of a variable fail."""
    src = tmp_path / "Bad.vy"
    src.write_text(
        "# pragma version 0.4.3\nitems: public(DynArray[uint256, 1000])\n\n@external\ndef f(n: uint256):\n"
        "    for i: uint256 in range(n, bound=100):\n        pass\n    for x: uint256 in self.items:\n        pass\n"
        "    for j: uint256 in range(5):\n        pass\n"
    )
    assert [b for _, _, b in _loops(src)] == [100, 1000, 5]
