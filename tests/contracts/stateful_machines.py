"""Hypothesis state machines over a live CityLedger system in titanoboa, each with a Python
model of what the contracts must do. Every rule predicts success or revert from the model and
checks the contract agrees; invariants compare the whole observable state after every step.

Each machine also rebuilds the state from the events of the successful calls alone (as the
indexer does) and checks it equals the contracts' views: every state change emits what is
needed to rebuild it.

Used by test_stateful.py (quick, a few hundred steps) and by the long mode (>= 10,000 steps)."""

from __future__ import annotations

import boa
from boa.contracts.base_evm_contract import BoaError
from contracts_kit import (
    ANY_RESEARCHER,
    DAY,
    KIND_AGENCY,
    KIND_BUSINESS,
    ROLE_AUDITOR,
    ROLE_PUBLISHER,
    ROLE_RESEARCHER,
    SCOPE_DOMAIN,
    account,
    deploy_system,
    deployer,
    h,
    high_s,
    mock_wallet_deployer,
    purpose,
    word,
)
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

STEPS = {"count": 0}
PURPOSES = [purpose("ScientificResearch"), purpose("Marketing")]


def attempt(expected_ok: bool, fn, *args, **kwargs):
    """Call; fail the run if the outcome differs from the model's prediction."""
    try:
        result = fn(*args, **kwargs)
    except BoaError as exc:
        assert not expected_ok, f"model expected success, contract reverted: {exc}"
        return None
    assert expected_ok, f"model expected a revert, contract accepted {fn}"
    return result


class AnchoredMachine(RuleBasedStateMachine):
    """Each run starts from a fresh deployment inside a boa anchor, discarded at teardown."""

    def __init__(self):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()

    def teardown(self):
        self._anchor.__exit__(None, None, None)

    def step(self):
        STEPS["count"] += 1

    def attempt(self, expected_ok: bool, fn, *args, **kwargs):
        """`attempt`, then feed the events of a successful call to the event-only rebuild."""
        result = attempt(expected_ok, fn, *args, **kwargs)
        if expected_ok:
            for ev in fn.contract.get_logs():
                self.absorb(type(ev).__name__, ev)
        return result

    def absorb(self, name: str, ev) -> None:
        raise NotImplementedError

    @rule(seconds=st.integers(1, 40 * DAY))
    def time_passes(self, seconds):
        self.step()
        boa.env.time_travel(seconds=seconds)


class ConsentMachine(AnchoredMachine):
    """Invariant: a consent is active iff granted, not revoked and not expired; a signature is
    usable once, on one chain, for one contract, by its signer, before its deadline."""

    VARIANTS = [
        "good",
        "good",
        "good",
        "wrong_chain",
        "wrong_contract",
        "wrong_signer",
        "used_nonce",
        "future_nonce",
        "past_deadline",
        "high_s",
        "other_expiry",
    ]

    @initialize()
    def deploy(self):
        self.s = deploy_system()
        self.other = deployer("ConsentRegistry").deploy(self.s.roles.address, self.s.datasets.address)
        self.owner = account("wallet-owner")
        wallet = mock_wallet_deployer().deploy(self.owner.address)
        # (address, signing account): two EOAs and one ERC-1271 wallet.
        self.citizens = [(c.address, c) for c in self.s.citizens[:2]] + [(wallet.address, self.owner)]
        self.model: dict[tuple, list[int]] = {}  # (citizen, p, scope, grantee) -> [expiry, nonce]
        self.used: list[tuple] = []  # successful signed calls, for replays
        self.rebuilt: dict[bytes, tuple] = {}  # key -> (expiry, nonce, granted_at), from events only

    def absorb(self, name, ev):
        key = bytes(ev.key)
        if name == "SignaturesCancelled":
            expiry, _, granted_at = self.rebuilt.get(key, (0, 0, 0))
            self.rebuilt[key] = (expiry, ev.nonce, granted_at)
            return
        if name == "SignedGrantSkipped":
            return  # changes nothing
        assert key == self.s.consent.consent_key(ev.citizen, ev.purpose, ev.scope_kind, ev.scope_id, ev.grantee)
        if name == "ConsentGranted":
            self.rebuilt[key] = (ev.expiry, ev.nonce, boa.env.timestamp)
        elif name == "ConsentRevoked":
            self.rebuilt[key] = (0, ev.nonce, self.rebuilt[key][2])
        else:
            raise AssertionError(f"unexpected event {name}")

    def key(self, ci, pi, domain, gi):
        grantee = ANY_RESEARCHER if gi == 0 else self.s.researcher.address
        return (self.citizens[ci][0], PURPOSES[pi], domain, grantee)

    def state(self, k):
        return self.model.setdefault(k, [0, 0])

    def active(self, k):
        return self.state(k)[0] > boa.env.timestamp

    def chain(self):
        return boa.env.evm.patch.chain_id

    keys = dict(ci=st.integers(0, 2), pi=st.integers(0, 1), domain=st.integers(1, 2), gi=st.integers(0, 1))

    @rule(**keys, expiry_delta=st.integers(-5, 400 * DAY))
    def grant_direct(self, ci, pi, domain, gi, expiry_delta):
        self.step()
        k = self.key(ci, pi, domain, gi)
        expiry = max(0, boa.env.timestamp + expiry_delta)
        ok = expiry > boa.env.timestamp
        out = self.attempt(ok, self.s.consent.grant, k[1], SCOPE_DOMAIN, word(domain), k[3], expiry, sender=k[0])
        if ok:
            assert out == self.s.consent.consent_key(k[0], k[1], SCOPE_DOMAIN, word(domain), k[3])
            self.state(k)[:] = [expiry, self.state(k)[1] + 1]

    @rule(**keys)
    def revoke_direct(self, ci, pi, domain, gi):
        self.step()
        k = self.key(ci, pi, domain, gi)
        ok = self.active(k)
        self.attempt(ok, self.s.consent.revoke, k[1], SCOPE_DOMAIN, word(domain), k[3], sender=k[0])
        if ok:
            self.state(k)[:] = [0, self.state(k)[1] + 1]

    # Variants whose signature is right in everything but perhaps its nonce.
    HONEST = ("good", "used_nonce", "future_nonce")

    def _signed(self, kind, k, variant, expiry, nonce_override=None):
        """A signature of the `kind` message for key k, spoiled as `variant` says; returns
        (deadline, sig, the nonce it was signed with)."""
        citizen, signer = k[0], next(sig for addr, sig in self.citizens if addr == k[0])
        nonce = self.state(k)[1] if nonce_override is None else nonce_override
        deadline = boa.env.timestamp + DAY
        kw = dict(
            citizen=citizen,
            p=k[1],
            scope_kind=SCOPE_DOMAIN,
            scope_id=word(k[2]),
            grantee=k[3],
            nonce=nonce,
            deadline=deadline,
        )
        if variant == "wrong_chain":
            kw["chain_id"] = self.chain() + 1
        elif variant == "wrong_contract":
            kw["contract"] = self.other.address
        elif variant == "wrong_signer":
            signer = self.s.citizens[3]
        elif variant == "used_nonce":
            kw["nonce"] = nonce - 1 if nonce > 0 else nonce + 2
        elif variant == "future_nonce":
            kw["nonce"] = nonce + 1
        elif variant == "past_deadline":
            kw["deadline"] = deadline = boa.env.timestamp - 1
        if kind == "grant":
            sig = self.s.sign_grant(signer, expiry=expiry + (1 if variant == "other_expiry" else 0), **kw)
        else:
            sig = self.s.sign_revoke(signer, **kw)
        if variant == "high_s":
            sig = high_s(sig)
        return deadline, sig, kw["nonce"]

    @rule(**keys, variant=st.sampled_from(VARIANTS), expiry_delta=st.integers(-5, 400 * DAY))
    def grant_signed(self, ci, pi, domain, gi, variant, expiry_delta):
        self.step()
        k = self.key(ci, pi, domain, gi)
        expiry = max(0, boa.env.timestamp + expiry_delta)
        deadline, sig, _ = self._signed("grant", k, variant, expiry)
        ok = variant == "good" and expiry > boa.env.timestamp
        call = (k[0], k[1], SCOPE_DOMAIN, word(domain), k[3], expiry, deadline, sig)
        self.attempt(ok, self.s.consent.grant_by_sig, *call, sender=self.s.researcher.address)
        if ok:
            self.state(k)[:] = [expiry, self.state(k)[1] + 1]
            self.used.append(("grant", call))

    @rule(**keys, variant=st.sampled_from(VARIANTS))
    def revoke_signed(self, ci, pi, domain, gi, variant):
        self.step()
        k = self.key(ci, pi, domain, gi)
        deadline, sig, _ = self._signed("revoke", k, variant, 0)
        ok = variant in ("good", "other_expiry") and self.active(k)
        call = (k[0], k[1], SCOPE_DOMAIN, word(domain), k[3], deadline, sig)
        self.attempt(ok, self.s.consent.revoke_by_sig, *call)
        if ok:
            self.state(k)[:] = [0, self.state(k)[1] + 1]
            self.used.append(("revoke", call))

    @precondition(lambda self: self.used)
    @rule(i=st.integers(0, 10_000), chain_shift=st.booleans())
    def replay_used_signature(self, i, chain_shift):
        """A used signature never works again: not here, not on another chain id, not on another contract."""
        self.step()
        kind, call = self.used[i % len(self.used)]
        for target in (self.s.consent, self.other):
            fn = target.grant_by_sig if kind == "grant" else target.revoke_by_sig
            if chain_shift:
                old = boa.env.evm.patch.chain_id
                boa.env.evm.patch.chain_id = old + 7
                try:
                    self.attempt(False, fn, *call)
                finally:
                    boa.env.evm.patch.chain_id = old
            else:
                self.attempt(False, fn, *call)

    @rule(
        entries=st.lists(
            st.tuples(
                st.integers(0, 2), st.integers(0, 1), st.integers(1, 2), st.integers(0, 1), st.sampled_from(VARIANTS)
            ),
            min_size=1,
            max_size=4,
        )
    )
    def batch(self, entries):
        """Entries are signed as a relayer expects them to apply (consecutive nonces per key);
        each applies iff its signature is honest and its nonce is the key's nonce when its
        turn comes, else it is skipped: no entry sinks the batch."""
        self.step()
        pending: dict[tuple, int] = {}
        grants, plan = [], []
        expiry = boa.env.timestamp + 30 * DAY
        for ci, pi, domain, gi, variant in entries:
            k = self.key(ci, pi, domain, gi)
            nonce = self.state(k)[1] + pending.get(k, 0)
            deadline, sig, signed_nonce = self._signed("grant", k, variant, expiry, nonce_override=nonce)
            grants.append((k[0], k[1], SCOPE_DOMAIN, word(domain), k[3], expiry, deadline, sig))
            plan.append((k, variant in self.HONEST, signed_nonce))
            pending[k] = pending.get(k, 0) + 1
        expected = 0
        for i, (k, honest, signed_nonce) in enumerate(plan):
            if honest and signed_nonce == self.state(k)[1]:
                self.state(k)[:] = [expiry, signed_nonce + 1]
                expected |= 1 << i
        assert self.attempt(True, self.s.consent.grant_batch_by_sig, grants) == expected

    @rule(**keys)
    def cancel_signatures(self, ci, pi, domain, gi):
        """Always allowed, in any state of the consent: only the nonce moves."""
        self.step()
        k = self.key(ci, pi, domain, gi)
        self.attempt(True, self.s.consent.cancel_signatures, k[1], SCOPE_DOMAIN, word(domain), k[3], sender=k[0])
        self.state(k)[1] += 1

    @invariant()
    def consent_matches_model(self):
        if not hasattr(self, "s"):
            return
        now = boa.env.timestamp
        for (citizen, p, domain, grantee), (expiry, nonce) in self.model.items():
            args = (citizen, p, SCOPE_DOMAIN, word(domain), grantee)
            assert self.s.consent.is_active(*args) == (expiry > now)
            assert self.s.consent.nonce_of(self.s.consent.consent_key(*args)) == nonce

    @invariant()
    def events_rebuild_consents(self):
        if not hasattr(self, "s"):
            return
        for key, record in self.rebuilt.items():
            assert self.s.consent.consent(key) == record


ACTORS = 6  # actor 0 is the admin
ACTOR = st.integers(-4, ACTORS - 1)  # negative: the rule's natural actor


class GovernanceMachine(AnchoredMachine):
    """Invariants: roles change only by the admin; only publishers register, only a version's
    publisher supersedes or withdraws it, only auditors attest (never their own datasets), only
    researchers/publishers get access, a release needs a live access (granted, unexpired, the
    grantee still holding the role it requested with, the publisher still accredited) and a
    version with the granted one's terms, and is_live says exactly that; a private query
    never takes an access's spending past its budget, which anyone can check from the events;
    operators log only for the publisher that named them."""

    @initialize()
    def deploy(self):
        self.s = deploy_system(grant_roles=False)
        self.actors = [self.s.admin.address] + [account(f"actor{i}").address for i in range(1, ACTORS)]
        self.roles = [0] * ACTORS  # bitmask | kind << 8
        self.datasets: list[dict] = []  # index = id - 1
        self.accesses: list[dict] = []
        # Rebuilt from events only: roles word per address, dataset -> [publisher, status, supersedes,
        # successor], access -> [dataset, requester, status, expiry], release count.
        self.ev_roles: dict[str, int] = {}
        self.ev_requests: dict[int, int] = {}  # access -> role used (from AccessRequested)
        self.ev_datasets: dict[int, list] = {}
        self.ev_access: dict[int, list] = {}
        self.ev_releases = 0
        self.ev_queries = 0
        self.ev_budgets: dict[int, list[int]] = {}  # access -> [budget, spent], from events only
        self.operators: set[tuple[int, int]] = set()  # (publisher, operator)
        # A realistic start (two publishers, an auditor, a researcher, one outsider); rules change it.
        for i, role, kind in [
            (1, ROLE_PUBLISHER, KIND_AGENCY),
            (2, ROLE_PUBLISHER, KIND_BUSINESS),
            (3, ROLE_AUDITOR, 0),
            (4, ROLE_RESEARCHER, 0),
        ]:
            self.attempt(True, self.s.roles.grant_role, self.actors[i], role, kind, sender=self.actors[0])
            self.roles[i] = role | (kind << 8) | (role << 16)

    def has(self, i, bit):
        return self.roles[i] & bit != 0

    def live(self, acc) -> bool:
        """What log_release requires of the access itself (and is_live reports)."""
        publisher = self.datasets[acc["dataset"] - 1]["publisher"]
        return (
            acc["status"] == 2
            and acc["expiry"] > boa.env.timestamp
            and self.has(acc["requester"], acc["role"])
            and self.has(publisher, ROLE_PUBLISHER)
        )

    def absorb(self, name, ev):
        if name == "RoleGranted":
            self.ev_roles[ev.account] = self.ev_roles.get(ev.account, 0) | ev.role | (ev.kind << 8) | (ev.role << 16)
        elif name == "RoleRevoked":
            word_ = self.ev_roles[ev.account] & ~ev.role
            self.ev_roles[ev.account] = word_ & ~0xFF00 if ev.role == ROLE_PUBLISHER else word_
        elif name == "DatasetRegistered":
            self.ev_datasets[ev.dataset_id] = [ev.publisher, 1, ev.supersedes, 0]
            if ev.supersedes:
                self.ev_datasets[ev.supersedes][3] = ev.dataset_id
        elif name == "DatasetWithdrawn":
            self.ev_datasets[ev.dataset_id][1] = 2
        elif name == "AccessRequested":
            self.ev_access[ev.access_id] = [ev.dataset_id, ev.requester, 1, 0]
            self.ev_requests[ev.access_id] = ev.role
        elif name == "AccessGranted":
            self.ev_access[ev.access_id][2:] = [2, ev.expiry]
        elif name == "AccessRefused":
            self.ev_access[ev.access_id][2] = 3
        elif name == "AccessEnded":
            self.ev_access[ev.access_id][2] = 4
        elif name == "AccessCancelled":
            self.ev_access[ev.access_id][2] = 5
        elif name == "ReleaseLogged":
            self.ev_releases += 1
            assert ev.release_id == self.ev_releases
            assert ev.grantee == self.ev_access[ev.access_id][1]
        elif name == "PrivacyBudgetSet":
            budget = self.ev_budgets.setdefault(ev.access_id, [0, 0])
            assert ev.spent == budget[1] <= ev.budget
            budget[0] = ev.budget
        elif name == "PrivateQueryLogged":
            # Checkable by anyone from the events alone: spending adds up and stays within the budget.
            self.ev_queries += 1
            budget = self.ev_budgets.setdefault(ev.access_id, [0, 0])
            assert ev.query_id == self.ev_queries
            assert ev.budget == budget[0] and ev.spent_total == budget[1] + ev.epsilon_spent <= ev.budget
            budget[1] = ev.spent_total
        elif name == "ReleaseOperatorSet":
            pass  # its effect is checked through who may log
        elif name not in ("AttestationAdded",):
            raise AssertionError(f"unexpected event {name}")

    @rule(i=st.integers(1, ACTORS - 1), role=st.sampled_from([0, 1, 2, 3, 4, 8]), kind=st.integers(0, 3))
    def admin_grants(self, i, role, kind):
        self.step()
        valid = role in (1, 2, 4) and (kind in (1, 2) if role == 1 else kind == 0) and not self.has(i, role)
        self.attempt(valid, self.s.roles.grant_role, self.actors[i], role, kind, sender=self.actors[0])
        if valid:
            self.roles[i] |= role | (kind << 8) | (role << 16)

    @rule(i=st.integers(1, ACTORS - 1), role=st.sampled_from([1, 2, 4]))
    def admin_revokes(self, i, role):
        self.step()
        valid = self.has(i, role)
        self.attempt(valid, self.s.roles.revoke_role, self.actors[i], role, sender=self.actors[0])
        if valid:
            self.roles[i] &= ~role
            if role == ROLE_PUBLISHER:
                self.roles[i] &= ~0xFF00

    @rule(
        caller=st.integers(1, ACTORS - 1),
        who=st.integers(0, ACTORS - 1),
        role=st.sampled_from([1, 2, 4]),
        revoke=st.booleans(),
    )
    def escalation_fails(self, caller, who, role, revoke):
        self.step()
        if revoke:
            self.attempt(False, self.s.roles.revoke_role, self.actors[who], role, sender=self.actors[caller])
        else:
            kind = KIND_AGENCY if role == ROLE_PUBLISHER else 0
            self.attempt(False, self.s.roles.grant_role, self.actors[who], role, kind, sender=self.actors[caller])
        self.attempt(False, self.s.roles.transfer_ownership, self.actors[caller], sender=self.actors[caller])

    def who(self, i: int, natural: int | None) -> int:
        """A negative draw means the actor the rule naturally expects (so successes are common)."""
        if i >= 0 or natural is None:
            return abs(i) % ACTORS
        return natural

    def first_with(self, *bits) -> int | None:
        return next((j for j in range(1, ACTORS) if any(self.has(j, b) for b in bits)), None)

    @rule(i=ACTOR, sup=st.integers(-8, 8), domain=st.integers(1, 14), personal=st.booleans())
    def register(self, i, sup, domain, personal=True):
        """sup: 0 a new dataset, > 0 that id (maybe already superseded), < 0 a latest version."""
        self.step()
        domain = {13: 0, 14: 13}.get(domain, domain)
        heads = [n for n, ds in enumerate(self.datasets, start=1) if ds["successor"] == 0]
        if sup < 0 and heads:
            supersedes = heads[sup % len(heads)]
        else:
            supersedes = sup if 0 < sup <= len(self.datasets) else 0
        prev = self.datasets[supersedes - 1] if supersedes else None
        i = self.who(i, prev["publisher"] if prev else self.first_with(ROLE_PUBLISHER))
        ok = (
            self.has(i, ROLE_PUBLISHER)
            and 1 <= domain <= 12
            and (prev is None or (prev["publisher"] == i and prev["successor"] == 0))
        )
        label = f"content-{len(self.datasets)}-{STEPS['count']}"
        new_id = self.attempt(
            ok,
            self.s.datasets.register,
            h(label),
            h("m"),
            "ipfs://m",
            domain,
            personal,
            supersedes,
            sender=self.actors[i],
        )
        if ok:
            assert new_id == len(self.datasets) + 1
            self.datasets.append(
                {
                    "publisher": i,
                    "active": True,
                    "successor": 0,
                    "lineage": prev["lineage"] if prev else new_id,
                    "terms": (domain, personal),
                }
            )
            if prev:
                prev["successor"] = new_id

    @precondition(lambda self: self.datasets)
    @rule(i=ACTOR, d=st.integers(0, 100))
    def withdraw(self, i, d):
        self.step()
        ds = self.datasets[d % len(self.datasets)]
        i = self.who(i, ds["publisher"])
        ok = ds["publisher"] == i and ds["active"]
        self.attempt(ok, self.s.datasets.withdraw, d % len(self.datasets) + 1, h("why"), sender=self.actors[i])
        if ok:
            ds["active"] = False

    @precondition(lambda self: self.datasets)
    @rule(i=ACTOR, d=st.integers(0, 100), kind=st.integers(0, 5))
    def attest(self, i, d, kind):
        self.step()
        i = self.who(i, self.first_with(ROLE_AUDITOR))
        ds = self.datasets[d % len(self.datasets)]
        ok = self.has(i, ROLE_AUDITOR) and ds["active"] and 1 <= kind <= 4 and ds["publisher"] != i
        self.attempt(ok, self.s.datasets.attest, d % len(self.datasets) + 1, kind, h("report"), sender=self.actors[i])

    @precondition(lambda self: self.datasets)
    @rule(i=ACTOR, d=st.integers(0, 100))
    def request_access(self, i, d):
        self.step()
        i = self.who(i, self.first_with(ROLE_RESEARCHER, ROLE_PUBLISHER))
        did = d % len(self.datasets) + 1
        ok = (self.has(i, ROLE_RESEARCHER) or self.has(i, ROLE_PUBLISHER)) and self.datasets[did - 1]["active"]
        aid = self.attempt(ok, self.s.access.request_access, did, PURPOSES[0], h("terms"), sender=self.actors[i])
        if ok:
            assert aid == len(self.accesses) + 1
            role = ROLE_RESEARCHER if self.has(i, ROLE_RESEARCHER) else ROLE_PUBLISHER
            self.accesses.append(
                {"dataset": did, "requester": i, "status": 1, "expiry": 0, "role": role, "budget": 0, "spent": 0}
            )

    @precondition(lambda self: self.accesses)
    @rule(i=ACTOR, a=st.integers(0, 100))
    def cancel_request(self, i, a):
        self.step()
        acc = self.accesses[a % len(self.accesses)]
        i = self.who(i, acc["requester"])
        ok = acc["status"] == 1 and acc["requester"] == i
        self.attempt(ok, self.s.access.cancel_request, a % len(self.accesses) + 1, sender=self.actors[i])
        if ok:
            acc["status"] = 5

    @precondition(lambda self: self.accesses)
    @rule(i=ACTOR, a=st.integers(0, 100), days=st.integers(0, 60), refuse=st.booleans())
    def decide_access(self, i, a, days, refuse):
        self.step()
        acc = self.accesses[a % len(self.accesses)]
        aid = a % len(self.accesses) + 1
        ds = self.datasets[acc["dataset"] - 1]
        i = self.who(i, ds["publisher"])
        mine = ds["publisher"] == i and acc["status"] == 1
        if refuse:
            self.attempt(mine, self.s.access.refuse_access, aid, h("no"), sender=self.actors[i])
            if mine:
                acc["status"] = 3
            return
        expiry = boa.env.timestamp + days * DAY
        ok = (
            mine
            and days > 0
            and ds["active"]
            and self.has(i, ROLE_PUBLISHER)
            and self.has(acc["requester"], acc["role"])
        )
        self.attempt(ok, self.s.access.grant_access, aid, expiry, sender=self.actors[i])
        if ok:
            acc["status"], acc["expiry"] = 2, expiry

    @precondition(lambda self: self.accesses)
    @rule(i=ACTOR, a=st.integers(0, 100))
    def end_access(self, i, a):
        self.step()
        acc = self.accesses[a % len(self.accesses)]
        i = self.who(i, acc["requester"] if a % 2 else self.datasets[acc["dataset"] - 1]["publisher"])
        ok = acc["status"] == 2 and i in (acc["requester"], self.datasets[acc["dataset"] - 1]["publisher"])
        self.attempt(ok, self.s.access.end_access, a % len(self.accesses) + 1, sender=self.actors[i])
        if ok:
            acc["status"] = 4

    @precondition(lambda self: self.accesses)
    @rule(i=ACTOR, a=st.integers(0, 100), d=st.integers(0, 100), count=st.integers(0, 3))
    def log_release(self, i, a, d, count):
        self.step()
        acc = self.accesses[a % len(self.accesses)]
        granted = acc["dataset"]
        i = self.who(i, self.datasets[granted - 1]["publisher"])
        did = granted if d % 2 == 0 else d % len(self.datasets) + 1
        g, ds = self.datasets[granted - 1], self.datasets[did - 1]
        personal = ds["terms"][1]
        ok = (
            self.may_log(g["publisher"], i)
            and self.live(acc)
            and ds["active"]
            and ds["lineage"] == g["lineage"]
            and did >= granted
            and ds["terms"] == g["terms"]
            and (count > 0) == personal
        )
        self.attempt(
            ok,
            self.s.access.log_release,
            a % len(self.accesses) + 1,
            did,
            count,
            h("root") if count else b"\0" * 32,
            boa.env.evm.patch.block_number,
            h("release"),
            count,  # k: only with personal data
            sender=self.actors[i],
        )

    def may_log(self, publisher: int, i: int) -> bool:
        return i == publisher or (publisher, i) in self.operators

    @rule(i=ACTOR, op=st.integers(0, ACTORS - 1), allowed=st.booleans())
    def set_operator(self, i, op, allowed):
        self.step()
        i = self.who(i, self.first_with(ROLE_PUBLISHER))
        ok = self.has(i, ROLE_PUBLISHER) if allowed else self.roles[i] & (ROLE_PUBLISHER << 16) != 0
        self.attempt(ok, self.s.access.set_release_operator, self.actors[op], allowed, sender=self.actors[i])
        if ok:
            (self.operators.add if allowed else self.operators.discard)((i, op))

    @precondition(lambda self: self.accesses)
    @rule(i=ACTOR, a=st.integers(0, 100), budget=st.integers(0, 3_000_000))
    def set_budget(self, i, a, budget):
        self.step()
        acc = self.accesses[a % len(self.accesses)]
        ds = self.datasets[acc["dataset"] - 1]
        i = self.who(i, ds["publisher"])
        # No role check: without the role nothing can spend it (log_query checks).
        ok = ds["publisher"] == i and acc["status"] == 2 and ds["terms"][1] and budget >= acc["spent"]
        self.attempt(ok, self.s.access.set_privacy_budget, a % len(self.accesses) + 1, budget, sender=self.actors[i])
        if ok:
            acc["budget"] = budget

    @precondition(lambda self: self.accesses)
    @rule(i=ACTOR, a=st.integers(0, 100), eps=st.integers(0, 1_200_000))
    def log_query(self, i, a, eps):
        self.step()
        acc = self.accesses[a % len(self.accesses)]
        ds = self.datasets[acc["dataset"] - 1]
        i = self.who(i, ds["publisher"])
        ok = (
            self.may_log(ds["publisher"], i)
            and self.live(acc)
            and ds["active"]
            and ds["terms"][1]
            and eps > 0
            and acc["spent"] + eps <= acc["budget"]
        )
        self.attempt(
            ok,
            self.s.access.log_query,
            a % len(self.accesses) + 1,
            acc["dataset"],
            eps,
            h("query"),
            h("root"),
            boa.env.evm.patch.block_number,
            7,
            sender=self.actors[i],
        )
        if ok:
            acc["spent"] += eps

    @precondition(lambda self: self.datasets)
    @rule(
        d=st.integers(0, 100),
        days=st.integers(1, 60),
        count=st.integers(0, 3),
        budget=st.integers(0, 2_000_000),
        eps=st.integers(0, 1_200_000),
        end=st.booleans(),
    )
    def access_flow(self, d, days, count, budget, eps, end):
        """The usual path in one rule (request, grant, budget, private query, release, maybe end)
        by the natural actors, so short runs reach deep states; each step is still predicted
        by the model."""
        before = len(self.accesses)
        self.request_access(-1, d)
        if len(self.accesses) > before:
            a = len(self.accesses) - 1
            self.decide_access(-1, a, days, False)
            self.set_budget(-1, a, budget)
            self.log_query(-1, a, eps)
            self.log_release(-1, a, 0, count)
            if end:
                self.end_access(-1, a)

    @invariant()
    def state_matches_model(self):
        if not hasattr(self, "s"):
            return
        s = self.s
        assert s.roles.owner() == self.actors[0]
        for i, addr in enumerate(self.actors):
            assert s.roles.roles_of(addr) == (self.roles[i] if i else 0)
        assert s.datasets.dataset_count() == len(self.datasets)
        for n, ds in enumerate(self.datasets, start=1):
            _, publisher, _, _, _, status, _, successor = s.datasets.dataset(n)
            assert (publisher, status, successor) == (
                self.actors[ds["publisher"]],
                1 if ds["active"] else 2,
                ds["successor"],
            )
            assert s.datasets.lineage_of(n) == ds["lineage"]
        assert s.access.access_count() == len(self.accesses)
        for n, acc in enumerate(self.accesses, start=1):
            rec = s.access.access(n)
            assert (rec[0], rec[1], rec[3]) == (acc["dataset"], self.actors[acc["requester"]], acc["status"])
            assert s.access.is_live(n) == self.live(acc)
            assert s.access.requester_role(n) == acc["role"]
            assert s.access.privacy_budget(n) == (acc["budget"], acc["spent"])

    @invariant()
    def events_rebuild_state(self):
        if not hasattr(self, "s"):
            return
        s = self.s
        for addr, roles_word in self.ev_roles.items():
            assert s.roles.roles_of(addr) == roles_word
        assert len(self.ev_datasets) == s.datasets.dataset_count()
        for n, (publisher, status, supersedes, successor) in self.ev_datasets.items():
            rec = s.datasets.dataset(n)
            assert (rec[1], rec[5], rec[6], rec[7]) == (publisher, status, supersedes, successor)
        assert len(self.ev_access) == s.access.access_count()
        for n, (dataset, requester, status, expiry) in self.ev_access.items():
            rec = s.access.access(n)
            assert (rec[0], rec[1], rec[3], rec[4]) == (dataset, requester, status, expiry)
            assert s.access.requester_role(n) == self.ev_requests[n]
        assert self.ev_releases == s.access.release_count()
        assert self.ev_queries == s.access.query_count()
        for n, (budget, spent) in self.ev_budgets.items():
            assert s.access.privacy_budget(n) == (budget, spent)


__all__ = ["ConsentMachine", "GovernanceMachine", "STEPS"]
