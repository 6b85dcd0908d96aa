"""DatasetRegistry: versions, lineage, withdrawal, attestations."""

import boa
import pytest
from contracts_kit import ROLE_PUBLISHER, events, h

ZERO = "0x" + "00" * 20


def test_register_stores_and_emits(system):
    s = system
    with s.as_(s.agency):
        did = s.datasets.register(h("file"), h("meta"), "ipfs://bafy/meta.json", 7, False, 0)
    assert did == 1
    (ev,) = events(s.datasets, "DatasetRegistered")
    assert (ev.dataset_id, ev.publisher, ev.content_hash, ev.metadata_hash, ev.metadata_uri) == (
        1,
        s.agency.address,
        h("file"),
        h("meta"),
        "ipfs://bafy/meta.json",
    )
    assert (ev.domain, ev.personal_data, ev.version, ev.supersedes) == (7, False, 1, 0)
    assert s.datasets.dataset(1) == (h("file"), s.agency.address, 1, 7, False, 1, 0, 0)
    assert s.datasets.dataset_id_of(s.agency.address, h("file")) == 1
    assert s.datasets.dataset_id_of(s.agency.address, h("other")) == 0
    assert s.datasets.dataset_id_of(s.business.address, h("file")) == 0
    assert s.datasets.facts(1) == (s.agency.address, 7, False, True)
    assert s.datasets.publisher_of(1) == s.agency.address
    assert s.datasets.domain_of(1) == 7
    assert s.datasets.is_active(1)
    assert s.datasets.lineage_of(1) == 1
    assert s.datasets.dataset_count() == 1


def test_unknown_dataset_views(system):
    s = system
    with boa.reverts("datasets: unknown dataset"):
        s.datasets.dataset(5)
    assert s.datasets.publisher_of(5) == ZERO
    assert s.datasets.domain_of(5) == 0
    assert not s.datasets.is_active(5)
    assert s.datasets.lineage_of(5) == 0
    assert s.datasets.facts(5) == (ZERO, 0, False, False)
    assert s.datasets.version_facts(5, 5) == (ZERO, False, True, False, False)


@pytest.mark.parametrize("who", ["auditor", "researcher", "citizen"])
def test_only_publishers_register(system, who):
    s = system
    acct = s.citizens[0] if who == "citizen" else getattr(s, who)
    with boa.reverts("datasets: caller is not a publisher"):
        s.register(acct, "x")
    assert s.datasets.dataset_count() == 0


def test_revoked_publisher_cannot_register(system):
    s = system
    with s.as_(s.admin):
        s.roles.revoke_role(s.agency.address, ROLE_PUBLISHER)
    with boa.reverts("datasets: caller is not a publisher"):
        s.register(s.agency, "x")


@pytest.mark.parametrize(
    "args,reason",
    [
        ((b"\0" * 32, h("m"), "u", 1, True, 0), "datasets: empty content hash"),
        ((h("c"), b"\0" * 32, "u", 1, True, 0), "datasets: empty metadata hash"),
        ((h("c"), h("m"), "u", 0, True, 0), "datasets: unknown domain"),
        ((h("c"), h("m"), "u", 13, True, 0), "datasets: unknown domain"),
        ((h("c"), h("m"), "u", 1, True, 9), "datasets: unknown dataset"),
    ],
)
def test_register_rejects_bad_input(system, args, reason):
    s = system
    with s.as_(s.agency), boa.reverts(reason):
        s.datasets.register(*args)
    assert s.datasets.dataset_count() == 0


def test_content_hash_unique_per_publisher(system):
    """Finding 1: another publisher registering the same bytes first blocks nobody; each
    registration names its own publisher; a publisher's own copy is unique while active."""
    s = system
    squat = s.register(s.business, "same")
    real = s.register(s.agency, "same")
    assert s.datasets.dataset_id_of(s.business.address, h("same")) == squat
    assert s.datasets.dataset_id_of(s.agency.address, h("same")) == real
    assert s.datasets.dataset(real)[:2] == (h("same"), s.agency.address)
    with boa.reverts("datasets: content hash already registered by this publisher"):
        s.register(s.agency, "same")
    with boa.reverts("datasets: content hash already registered by this publisher"):
        s.register(s.agency, "same", supersedes=real)
    # Revoking the squatter's role or withdrawing its record changes nothing for the agency.
    with s.as_(s.business):
        s.datasets.withdraw(squat, h("squatted"))
    assert s.datasets.is_active(real)


def test_republish_after_withdrawal_keeps_lineages(system):
    """A publisher may register bytes again once its registration of them is withdrawn, as a
    new dataset or as a correction of the withdrawn version; every lineage stays readable."""
    s = system
    a = s.register(s.agency, "budget")
    a2 = s.register(s.agency, "budget-v2", supersedes=a)
    with s.as_(s.agency):
        s.datasets.withdraw(a2, h("mistake"))
    again = s.register(s.agency, "budget-v2")  # the same bytes, now as a dataset of its own
    assert s.datasets.dataset_id_of(s.agency.address, h("budget-v2")) == again
    assert [s.datasets.lineage_of(i) for i in (a, a2, again)] == [a, a, again]
    with s.as_(s.agency):
        s.datasets.withdraw(again, h("mistake again"))
    fixed = s.register(s.agency, "budget-v2", supersedes=a2)  # the same bytes as a correction of a2
    assert s.datasets.dataset(fixed)[2] == 3
    assert [s.datasets.lineage_of(i) for i in (a, a2, again, fixed)] == [a, a, again, a]
    assert s.datasets.version_facts(a, fixed)[1] and not s.datasets.version_facts(again, fixed)[1]


def test_version_facts(system):
    s = system
    a = s.register(s.agency, "v1", domain=3, personal=True)
    b = s.register(s.agency, "v2", domain=3, personal=True, supersedes=a)
    c = s.register(s.agency, "v3", domain=4, personal=True, supersedes=b)
    d = s.register(s.agency, "v4", domain=4, personal=False, supersedes=c)
    other = s.register(s.agency, "other", domain=3)
    agency = s.agency.address
    assert s.datasets.version_facts(a, a) == (agency, True, True, True, True)
    assert s.datasets.version_facts(a, b) == (agency, True, True, True, True)
    assert s.datasets.version_facts(a, c) == (agency, True, False, True, True)  # domain changed
    assert s.datasets.version_facts(c, d) == (agency, True, False, True, False)  # personal flag changed
    assert s.datasets.version_facts(b, a)[1] is False  # earlier, not later
    assert s.datasets.version_facts(a, other)[1] is False  # another lineage
    assert s.datasets.version_facts(a, 99)[1:4] == (False, False, False)
    with s.as_(s.agency):
        s.datasets.withdraw(b, h("r"))
    assert s.datasets.version_facts(a, b) == (agency, True, True, False, True)


def test_new_version_links_lineage(system):
    s = system
    a = s.register(s.agency, "v1", domain=3)
    b = s.register(s.agency, "v2", domain=3, supersedes=a)
    (ev,) = events(s.datasets, "DatasetRegistered")
    assert (ev.version, ev.supersedes) == (2, a)
    c = s.register(s.agency, "v3", domain=3, supersedes=b)
    other = s.register(s.agency, "other")
    assert s.datasets.dataset(a)[6:] == (0, b)
    assert s.datasets.dataset(b)[2] == 2 and s.datasets.dataset(b)[6:] == (a, c)
    assert s.datasets.dataset(c)[2] == 3 and s.datasets.dataset(c)[6:] == (b, 0)
    assert [s.datasets.lineage_of(i) for i in (a, b, c, other)] == [a, a, a, other]
    assert s.datasets.is_active(a)  # superseded is not withdrawn


def test_supersede_rules(system):
    s = system
    a = s.register(s.agency, "v1")
    with boa.reverts("datasets: caller is not the dataset's publisher"):
        s.register(s.business, "hijack", supersedes=a)
    s.register(s.agency, "v2", supersedes=a)
    with boa.reverts("datasets: version already superseded"):
        s.register(s.agency, "fork", supersedes=a)
    assert s.datasets.dataset_count() == 2


def test_withdraw(system):
    s = system
    a = s.register(s.agency, "v1")
    with s.as_(s.business), boa.reverts("datasets: caller is not the dataset's publisher"):
        s.datasets.withdraw(a, h("r"))
    with s.as_(s.admin), boa.reverts("datasets: caller is not the dataset's publisher"):
        s.datasets.withdraw(a, h("r"))
    with s.as_(s.agency), boa.reverts("datasets: unknown dataset"):
        s.datasets.withdraw(42, h("r"))
    with s.as_(s.agency):
        s.datasets.withdraw(a, h("reason"))
    (ev,) = events(s.datasets, "DatasetWithdrawn")
    assert (ev.dataset_id, ev.publisher, ev.reason_hash) == (a, s.agency.address, h("reason"))
    assert s.datasets.dataset(a)[5] == 2
    assert not s.datasets.is_active(a)
    with s.as_(s.agency), boa.reverts("datasets: dataset already withdrawn"):
        s.datasets.withdraw(a, h("r"))
    # A withdrawn version can be corrected by a new version.
    b = s.register(s.agency, "fixed", supersedes=a)
    assert s.datasets.dataset(b)[2] == 2


def test_attest_and_revoke(system):
    s = system
    a = s.register(s.agency, "v1")
    with s.as_(s.auditor):
        att = s.datasets.attest(a, 2, h("report"))
    (ev,) = events(s.datasets, "AttestationAdded")
    assert (ev.attestation_id, ev.dataset_id, ev.auditor, ev.kind, ev.report_hash) == (
        att,
        a,
        s.auditor.address,
        2,
        h("report"),
    )
    assert s.datasets.attestation(att) == (a, s.auditor.address, 2, True)
    assert s.datasets.attestation_count() == 1
    with s.as_(s.researcher), boa.reverts("datasets: caller is not the attesting auditor"):
        s.datasets.revoke_attestation(att)
    with s.as_(s.auditor):
        s.datasets.revoke_attestation(att)
    (ev,) = events(s.datasets, "AttestationRevoked")
    assert (ev.attestation_id, ev.dataset_id, ev.auditor) == (att, a, s.auditor.address)
    assert s.datasets.attestation(att) == (a, s.auditor.address, 2, False)
    with s.as_(s.auditor), boa.reverts("datasets: attestation already revoked"):
        s.datasets.revoke_attestation(att)
    with s.as_(s.auditor), boa.reverts("datasets: unknown attestation"):
        s.datasets.revoke_attestation(99)
    assert s.datasets.attestation(99) == (0, ZERO, 0, False)


@pytest.mark.parametrize(
    "who,kind,report,reason",
    [
        ("agency", 1, "r", "datasets: caller is not an auditor"),
        ("researcher", 1, "r", "datasets: caller is not an auditor"),
        ("auditor", 0, "r", "datasets: unknown attestation kind"),
        ("auditor", 5, "r", "datasets: unknown attestation kind"),
        ("auditor", 1, None, "datasets: empty report hash"),
    ],
)
def test_attest_rejects(system, who, kind, report, reason):
    s = system
    a = s.register(s.agency, "v1")
    with s.as_(getattr(s, who)), boa.reverts(reason):
        s.datasets.attest(a, kind, h(report) if report else b"\0" * 32)


def test_publisher_cannot_attest_its_own_dataset(system):
    s = system
    with s.as_(s.admin):
        s.roles.grant_role(s.agency.address, 2, 0)  # the agency is also an auditor
    own = s.register(s.agency, "census")
    other = s.register(s.business, "meters")
    with s.as_(s.agency), boa.reverts("datasets: auditor is the dataset's publisher"):
        s.datasets.attest(own, 1, h("self-review"))
    with s.as_(s.agency):
        s.datasets.attest(other, 1, h("review"))  # an auditor role for others' datasets
    assert s.datasets.attestation_count() == 1


def test_attestation_of_withdrawn_version_stays_as_history(system):
    s = system
    a = s.register(s.agency, "v1")
    with s.as_(s.auditor):
        att = s.datasets.attest(a, 1, h("r"))
    with s.as_(s.agency):
        s.datasets.withdraw(a, h("r"))
    assert s.datasets.attestation(att) == (a, s.auditor.address, 1, True)
    with s.as_(s.auditor):
        s.datasets.revoke_attestation(att)
    assert s.datasets.attestation(att)[3] is False


def test_attest_needs_active_version(system):
    s = system
    a = s.register(s.agency, "v1")
    with s.as_(s.auditor), boa.reverts("datasets: dataset is not active"):
        s.datasets.attest(a + 1, 1, h("r"))
    with s.as_(s.agency):
        s.datasets.withdraw(a, h("r"))
    with s.as_(s.auditor), boa.reverts("datasets: dataset is not active"):
        s.datasets.attest(a, 1, h("r"))
