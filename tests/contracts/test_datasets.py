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
    assert s.datasets.dataset_id_of(h("file")) == 1
    assert s.datasets.dataset_id_of(h("other")) == 0
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


def test_content_hash_registrable_once_ever(system):
    s = system
    s.register(s.agency, "same")
    with boa.reverts("datasets: content hash already registered"):
        s.register(s.agency, "same")
    with boa.reverts("datasets: content hash already registered"):
        s.register(s.business, "same")
    with s.as_(s.agency):
        s.datasets.withdraw(1, h("why"))
    with boa.reverts("datasets: content hash already registered"):
        s.register(s.agency, "same", supersedes=1)


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


def test_attest_needs_active_version(system):
    s = system
    a = s.register(s.agency, "v1")
    with s.as_(s.auditor), boa.reverts("datasets: dataset is not active"):
        s.datasets.attest(a + 1, 1, h("r"))
    with s.as_(s.agency):
        s.datasets.withdraw(a, h("r"))
    with s.as_(s.auditor), boa.reverts("datasets: dataset is not active"):
        s.datasets.attest(a, 1, h("r"))
