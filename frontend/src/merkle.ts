// Check in the page that a citizen was in a release's consent snapshot: an OpenZeppelin-style
// Merkle tree (sorted pairs, keccak256) whose leaves are keccak256(keccak256(abi.encode(address))).
import { concat, encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

export function leafOf(address: Address): Hex {
  return keccak256(keccak256(encodeAbiParameters([{ type: "address" }], [address])));
}

function hashPair(a: Hex, b: Hex): Hex {
  return a.toLowerCase() < b.toLowerCase() ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

export function rootFromProof(leaf: Hex, proof: readonly Hex[]): Hex {
  return proof.reduce<Hex>((node, sibling) => hashPair(node, sibling), leaf);
}

export function verifyInclusion(address: Address, proof: readonly Hex[], root: Hex): boolean {
  return rootFromProof(leafOf(address), proof).toLowerCase() === root.toLowerCase();
}
