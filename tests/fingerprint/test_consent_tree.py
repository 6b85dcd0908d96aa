"""The consent-snapshot tree against OpenZeppelin's StandardMerkleTree, computed independently."""

import pytest
from eth_abi import encode
from eth_utils import keccak

from cityledger.errors import CityLedgerError
from cityledger.fingerprint import (
    EMPTY_CONSENT_ROOT,
    ConsentTree,
    consent_leaf,
    consent_proof,
    consent_root,
    verify_consent_proof,
)

A = "0x" + "11" * 20
B = "0x" + "22" * 20
C = "0x" + "33" * 20


def oz_leaf(addr):
    return keccak(keccak(encode(["address"], [addr])))


def pair(x, y):
    return keccak(min(x, y) + max(x, y))


def test_leaf_is_openzeppelin_standard_leaf():
    assert consent_leaf(A) == oz_leaf(A)
    assert consent_leaf(A.upper().replace("0X", "0x")) == oz_leaf(A)


def test_known_answer_three_leaves():
    # OZ makeMerkleTree, leaves sorted ascending l0<l1<l2, leaf i at tree[len - 1 - i]:
    # tree = [t0, t1, t2, t3, t4] with t4=l0, t3=l1, t2=l2, t1=pair(t3,t4), t0=pair(t1,t2).
    l0, l1, l2 = sorted(oz_leaf(x) for x in (A, B, C))
    expected = pair(pair(l1, l0), l2)
    assert consent_root([C, A, B]) == expected
    assert consent_root([A, B, C, A]) == expected  # a set: duplicates do not count


def test_known_answer_one_two_four():
    assert consent_root([A]) == oz_leaf(A)
    assert consent_root([A, B]) == pair(oz_leaf(A), oz_leaf(B))
    d = "0x" + "44" * 20
    ls = sorted(oz_leaf(x) for x in (A, B, C, d))
    # tree[3..6] = l3, l2, l1, l0; tree[1] = pair(tree[3], tree[4]), tree[2] = pair(tree[5], tree[6])
    assert consent_root([A, B, C, d]) == pair(pair(ls[3], ls[2]), pair(ls[1], ls[0]))


def test_proofs_verify_and_fail_when_tampered():
    addrs = ["0x" + f"{i:040x}" for i in range(1, 38)]
    tree = ConsentTree.build(addrs)
    for a in addrs:
        proof = tree.proof(a)
        assert verify_consent_proof(tree.root, a, proof)
        assert verify_consent_proof("0x" + tree.root.hex(), a, ["0x" + p.hex() for p in proof])
    proof = tree.proof(addrs[5])
    assert not verify_consent_proof(tree.root, addrs[6], proof)
    assert not verify_consent_proof(tree.root, addrs[5], proof[:-1])
    assert not verify_consent_proof(tree.root, addrs[5], [bytes(32)] + proof[1:])
    assert not verify_consent_proof(tree.root, "not an address", proof)
    with pytest.raises(CityLedgerError, match="not in this consent snapshot"):
        tree.proof("0x" + "ee" * 20)
    assert consent_proof(addrs, addrs[0]) == tree.proof(addrs[0])


def test_empty_snapshot_and_bad_addresses():
    assert consent_root([]) == EMPTY_CONSENT_ROOT
    with pytest.raises(CityLedgerError, match="not an Ethereum address"):
        consent_root(["0x1234"])


def test_dump_is_openzeppelin_standard_v1_and_loads_back():
    tree = ConsentTree.build([A, B, C])
    dump = tree.dump()
    assert dump["format"] == "standard-v1" and dump["leafEncoding"] == ["address"]
    assert dump["tree"][0] == "0x" + tree.root.hex()
    for v in dump["values"]:
        assert dump["tree"][v["treeIndex"]] == "0x" + oz_leaf(v["value"][0]).hex()
    assert ConsentTree.load(dump).root == tree.root
    broken = dict(dump, tree=["0x" + "00" * 32] + dump["tree"][1:])
    with pytest.raises(CityLedgerError, match="does not match"):
        ConsentTree.load(broken)
