import { ethers } from "hardhat";
import { gasOf, type BenchScenario } from "../lib";
import { MockUSDC__factory } from "../../typechain-types";

const ONE_USDC = 1_000_000n;

async function deployUsdc() {
  const [deployer, alice, bob] = await ethers.getSigners();
  const usdc = await new MockUSDC__factory(deployer).deploy();
  await usdc.mint(alice.address, 1_000n * ONE_USDC);
  await usdc.mint(bob.address, 1n * ONE_USDC);
  return { usdc, alice, bob };
}

export const scenarios: BenchScenario[] = [
  {
    key: "token.transfer",
    target: 60_000,
    note: "MockUSDC transfer of 10 USDC to an account that already holds the token",
    run: async () => {
      const { usdc, alice, bob } = await deployUsdc();
      return gasOf(usdc.connect(alice).transfer(bob.address, 10n * ONE_USDC));
    },
  },
  {
    key: "token.permit",
    target: 90_000,
    note: "MockUSDC EIP-2612 permit (first permit of the owner: nonce 0 -> 1), submitted by the spender",
    run: async () => {
      const { usdc, alice, bob } = await deployUsdc();
      const { chainId } = await ethers.provider.getNetwork();
      const deadline = 2n ** 48n;
      const value = 100n * ONE_USDC;
      const signature = await alice.signTypedData(
        { name: await usdc.name(), version: "1", chainId, verifyingContract: await usdc.getAddress() },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner: alice.address, spender: bob.address, value, nonce: 0n, deadline },
      );
      const { v, r, s } = ethers.Signature.from(signature);
      return gasOf(usdc.connect(bob).permit(alice.address, bob.address, value, deadline, v, r, s));
    },
  },
];
