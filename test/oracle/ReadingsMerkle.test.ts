/**
 * `ReadingsMerkle` (through `SettlementMathHarness`), as a specification of its tree rules with small
 * trees worked out by hand. The root is also checked against `src/eip712.ts` for every batch size in
 * eip712.test.ts and against a plain Solidity tree in test/foundry/fuzz/ReadingsMerkle.fuzz.t.sol.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { SettlementMathHarness__factory } from "../../typechain-types";
import { encodeReadings, packReading, type Reading } from "../../src/eip712";
import { BASE, reading } from "./fixtures";

async function harnessFixture() {
  const [deployer] = await ethers.getSigners();
  return new SettlementMathHarness__factory(deployer).deploy();
}

const sortedPair = (a: string, b: string) =>
  ethers.keccak256(BigInt(a) < BigInt(b) ? ethers.concat([a, b]) : ethers.concat([b, a]));
const leaf = (r: Reading) => ethers.keccak256(packReading(r));
const readings = [
  reading(1n, 0n, BASE),
  reading(2n, 0n, BASE),
  reading(3n, 7n, BASE),
  reading(4n, 0n),
  reading(5n, 9n),
];

describe("ReadingsMerkle", function () {
  describe("rootOf", function () {
    it("of one reading is its leaf: keccak256 of its 28 bytes (not of a padded 32-byte word)", async function () {
      const h = await loadFixture(harnessFixture);
      const packed = packReading(readings[0]);
      expect(await h.rootOf(packed, 1)).to.equal(ethers.keccak256(packed));
      expect(await h.rootOf(packed, 1)).to.not.equal(ethers.keccak256(ethers.zeroPadBytes(packed, 32)));
    });

    it("of two readings hashes the pair smaller word first, so their order does not matter", async function () {
      const h = await loadFixture(harnessFixture);
      const [a, b] = readings.map(leaf);
      expect(await h.rootOf(encodeReadings(readings.slice(0, 2)), 2)).to.equal(sortedPair(a, b));
      expect(await h.rootOf(encodeReadings([readings[1], readings[0]]), 2)).to.equal(sortedPair(a, b));
    });

    it("carries the last node of an odd level up unchanged (3 and 5 readings)", async function () {
      const h = await loadFixture(harnessFixture);
      const [a, b, c, d, e] = readings.map(leaf);
      expect(await h.rootOf(encodeReadings(readings.slice(0, 3)), 3)).to.equal(sortedPair(sortedPair(a, b), c));
      // Levels: [a b c d e] -> [ab cd e] -> [abcd e] -> [root].
      expect(await h.rootOf(encodeReadings(readings), 5)).to.equal(
        sortedPair(sortedPair(sortedPair(a, b), sortedPair(c, d)), e),
      );
    });

    it("reads only the given count of readings", async function () {
      const h = await loadFixture(harnessFixture);
      const [a, b] = readings.map(leaf);
      expect(await h.rootOf(encodeReadings(readings), 2)).to.equal(sortedPair(a, b));
    });
  });

  describe("rootFromProof", function () {
    it("climbs from a leaf through its siblings, hashing each pair sorted; an empty path is the leaf", async function () {
      const h = await loadFixture(harnessFixture);
      const [a, b, c, d, e] = readings.map(leaf);
      const root = sortedPair(sortedPair(sortedPair(a, b), sortedPair(c, d)), e);
      expect(await h.rootFromProof(c, [d, sortedPair(a, b), e])).to.equal(root);
      // The carried leaf needs one sibling only.
      expect(await h.rootFromProof(e, [sortedPair(sortedPair(a, b), sortedPair(c, d))])).to.equal(root);
      expect(await h.rootFromProof(a, [])).to.equal(a);
      expect(await h.rootFromProof(c, [sortedPair(a, b), d, e])).to.not.equal(root);
    });
  });
});
