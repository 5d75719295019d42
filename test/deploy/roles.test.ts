import { expect } from "chai";
import { ZeroHash, id } from "ethers";
import { desiredHolders, planRoleActions, roleHashOf, sameHolders, type RoleHolders } from "../../scripts/deploy/roles";

const DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const ADMIN = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PAUSER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const STRANGER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";

const holders = (entries: [string, string[]][]): RoleHolders => new Map(entries.map(([r, a]) => [r, new Set(a)]));

describe("deploy role plan", function () {
  describe("roleHashOf", function () {
    it("is 0x00 for the admin role and keccak256 of the name otherwise", function () {
      expect(roleHashOf("DEFAULT_ADMIN_ROLE")).to.equal(ZeroHash);
      expect(roleHashOf("PAUSER_ROLE")).to.equal(id("PAUSER_ROLE"));
    });
  });

  describe("planRoleActions", function () {
    const desired = desiredHolders({ DEFAULT_ADMIN_ROLE: [ADMIN], PAUSER_ROLE: [PAUSER] });

    it("grants everything, hands admin over last among grants, and renounces the deployer's admin at the very end", function () {
      const actual = holders([
        ["DEFAULT_ADMIN_ROLE", [DEPLOYER]],
        ["TOKEN_ADMIN_ROLE", [DEPLOYER]],
      ]);
      expect(planRoleActions(desired, actual, DEPLOYER)).to.deep.equal([
        { kind: "grant", role: "PAUSER_ROLE", account: PAUSER },
        { kind: "grant", role: "DEFAULT_ADMIN_ROLE", account: ADMIN },
        { kind: "renounce", role: "TOKEN_ADMIN_ROLE", account: DEPLOYER },
        { kind: "renounce", role: "DEFAULT_ADMIN_ROLE", account: DEPLOYER },
      ]);
    });

    it("completes an interrupted hand-over with only the missing calls", function () {
      const actual = holders([
        ["DEFAULT_ADMIN_ROLE", [DEPLOYER, ADMIN]],
        ["PAUSER_ROLE", [PAUSER]],
      ]);
      expect(planRoleActions(desired, actual, DEPLOYER)).to.deep.equal([
        { kind: "renounce", role: "DEFAULT_ADMIN_ROLE", account: DEPLOYER },
      ]);
    });

    it("revokes holders the plan does not name", function () {
      const actual = holders([
        ["DEFAULT_ADMIN_ROLE", [ADMIN]],
        ["PAUSER_ROLE", [PAUSER, STRANGER]],
      ]);
      expect(planRoleActions(desired, actual, DEPLOYER)).to.deep.equal([
        { kind: "revoke", role: "PAUSER_ROLE", account: STRANGER },
      ]);
    });

    it("is empty when the chain matches the plan", function () {
      expect(planRoleActions(desired, desired, DEPLOYER)).to.deep.equal([]);
      expect(
        sameHolders(
          desired,
          holders([
            ["PAUSER_ROLE", [PAUSER]],
            ["DEFAULT_ADMIN_ROLE", [ADMIN]],
          ]),
        ),
      ).to.equal(true);
    });

    it("keeps the deployer's admin when the config names the deployer as admin", function () {
      const selfAdmin = desiredHolders({ DEFAULT_ADMIN_ROLE: [DEPLOYER] });
      expect(planRoleActions(selfAdmin, holders([["DEFAULT_ADMIN_ROLE", [DEPLOYER]]]), DEPLOYER)).to.deep.equal([]);
    });
  });

  describe("sameHolders", function () {
    it("tells apart a missing holder, an extra holder and an extra role", function () {
      const plan = holders([["DEFAULT_ADMIN_ROLE", [ADMIN]]]);
      expect(sameHolders(plan, holders([["DEFAULT_ADMIN_ROLE", []]]))).to.equal(false);
      expect(sameHolders(plan, holders([["DEFAULT_ADMIN_ROLE", [ADMIN, DEPLOYER]]]))).to.equal(false);
      expect(
        sameHolders(
          plan,
          holders([
            ["DEFAULT_ADMIN_ROLE", [ADMIN]],
            ["X", [ADMIN]],
          ]),
        ),
      ).to.equal(false);
    });
  });
});
