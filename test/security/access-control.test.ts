/**
 * Access control, generated from the compiled ABIs: every state-changing function of every
 * deployable contract in `contracts/` (mocks excluded) is called by an account that holds no role and
 * owns nothing, and must revert with the error the reviewed table (access-table.ts) states — unless
 * the table lists it as intentionally permissionless, with a reason. A function on neither list, on
 * both, or a table entry matching no function, fails the test: nothing slips through unreviewed.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { BaseContract } from "ethers";
import { surveyArtifacts } from "./survey";
import { classify, defaultArguments, staleKeys, stateChangingFunctions, type SurfaceFunction } from "./abi-surface";
import { PERMISSIONLESS, RESTRICTED, type PermissionlessEntry, type RestrictedEntry } from "./access-table";
import type { AccessContext } from "./access-context";
import { genericDeploy, systemFixture } from "./system-fixture";

const SURVEY = surveyArtifacts();
const SURFACE = SURVEY.flatMap((c) => c.functions);

/** The whole system, plus every surveyed contract the fixture does not know, deployed generically. */
async function surveyedSystemFixture(): Promise<AccessContext> {
  const ctx = await systemFixture();
  for (const { name } of SURVEY) {
    if (ctx.contracts[name]) continue;
    try {
      ctx.contracts[name] = await genericDeploy(name, ctx);
    } catch (err) {
      ctx.deployErrors[name] = (err as Error).message.split("\n")[0];
    }
  }
  return ctx;
}

async function deployedSystem(): Promise<AccessContext> {
  return loadFixture(surveyedSystemFixture);
}

/** The instance of `name` in the fixture (deployed generically there when the fixture does not know it). */
async function instanceOf(ctx: AccessContext, name: string): Promise<BaseContract> {
  const instance = ctx.contracts[name];
  if (instance) return instance;
  throw new Error(
    `${name} is not deployed by test/security/system-fixture.ts and a generic deployment failed ` +
      `(${ctx.deployErrors[name] ?? "not attempted"}): add a deployer for it there`,
  );
}

async function expectRefused(ctx: AccessContext, f: SurfaceFunction, entry: RestrictedEntry): Promise<void> {
  const instance = await instanceOf(ctx, f.contract);
  const args = entry.args ? await entry.args(ctx) : defaultArguments(f.fragment, ctx.holder.address);
  const call = (instance.connect(ctx.attacker) as BaseContract).getFunction(f.signature);
  if (entry.role !== undefined) {
    const role = await instance.getFunction(entry.role).staticCall();
    await expect(call(...args))
      .to.be.revertedWithCustomError(instance, "AccessControlUnauthorizedAccount")
      .withArgs(ctx.attacker.address, role);
    return;
  }
  if (entry.error === undefined) throw new Error(`${f.contract}.${f.signature}: entry needs role or error`);
  const errorSource = entry.errorFrom ? await instanceOf(ctx, entry.errorFrom) : instance;
  const errorFragment = errorSource.interface.getError(entry.error);
  if (errorFragment === null) throw new Error(`${entry.error} is not in the ABI of ${entry.errorFrom ?? f.contract}`);
  const assertion = expect(call(...args)).to.be.revertedWithCustomError(errorSource, entry.error);
  if (errorFragment.inputs.length === 0) {
    await assertion;
    return;
  }
  if (!entry.errorArgs) throw new Error(`${f.contract}.${f.signature}: ${entry.error} has arguments; give errorArgs`);
  await assertion.withArgs(...(await entry.errorArgs(ctx)));
}

describe("access control (generated from the compiled ABIs)", function () {
  describe("the reviewed table", function () {
    it("lists every state-changing function exactly once", function () {
      const problems = SURFACE.flatMap((f) => {
        const c = classify(f, RESTRICTED, PERMISSIONLESS);
        if (c.kind === "unlisted") return [`${f.contract}.${f.signature} is on neither list`];
        if (c.kind === "listed twice") return [`${f.contract}.${f.signature} is on both lists (${c.keys.join(", ")})`];
        return [];
      });
      expect(problems, problems.join("\n")).to.deep.equal([]);
    });

    it("has no entry that matches no function", function () {
      const stale = staleKeys([...Object.keys(RESTRICTED), ...Object.keys(PERMISSIONLESS)], SURFACE);
      expect(stale, `stale entries: ${stale.join(", ")}`).to.deep.equal([]);
    });

    it("gives every permissionless function a reason", function () {
      const missing = Object.entries(PERMISSIONLESS).filter(([, e]) => e.reason.trim().length < 10);
      expect(missing.map(([k]) => k)).to.deep.equal([]);
    });
  });

  describe("the attacker", function () {
    it("holds no role on any contract", async function () {
      const ctx = await deployedSystem();
      for (const { name } of SURVEY) {
        const instance = await instanceOf(ctx, name);
        if (!instance.interface.hasFunction("hasRole(bytes32,address)")) continue;
        const roleGetters: string[] = [];
        instance.interface.forEachFunction((fn) => {
          if (fn.name.endsWith("_ROLE") && fn.inputs.length === 0) roleGetters.push(fn.name);
        });
        for (const getter of roleGetters) {
          const role = await instance.getFunction(getter).staticCall();
          expect(await instance.getFunction("hasRole").staticCall(role, ctx.attacker.address), `${name}.${getter}`).to
            .be.false;
        }
      }
    });
  });

  for (const contract of SURVEY) {
    describe(`${contract.name} (${contract.sourceName})`, function () {
      for (const f of contract.functions) {
        const c = classify(f, RESTRICTED, PERMISSIONLESS);
        if (c.kind === "restricted") {
          const expected = c.entry.role ? `AccessControlUnauthorizedAccount(${c.entry.role})` : c.entry.error;
          it(`${f.signature} refuses an account without a role with ${expected} (${c.entry.who})`, async function () {
            await expectRefused(await deployedSystem(), f, c.entry);
          });
        } else if (c.kind === "permissionless") {
          const entry: PermissionlessEntry = c.entry;
          it(`${f.signature} is open to anyone: ${entry.reason}`, function () {
            expect(entry.reason).to.not.equal("");
          });
        } else {
          it(`${f.signature} is in the reviewed table`, function () {
            expect.fail(`${contract.name}.${f.signature} is on neither list of test/security/access-table.ts`);
          });
        }
      }
    });
  }
});

/** The classifier itself: an unlisted function must be reported, or the generated test proves nothing. */
describe("access control classifier (abi-surface.ts)", function () {
  const abi = [
    "function mint(address to, uint256 amount)",
    "function grantRole(bytes32 role, address account)",
    "function safeTransferFrom(address from, address to, uint256 id)",
    "function safeTransferFrom(address from, address to, uint256 id, bytes data)",
    "function balanceOf(address) view returns (uint256)",
    "function version() pure returns (uint256)",
  ];
  const surface = stateChangingFunctions("Thing", abi);
  const bySignature = (signature: string) => surface.find((f) => f.signature === signature)!;

  describe("stateChangingFunctions", function () {
    it("returns non-view, non-pure functions with their signatures", function () {
      expect(surface.map((f) => f.signature).sort()).to.deep.equal([
        "grantRole(bytes32,address)",
        "mint(address,uint256)",
        "safeTransferFrom(address,address,uint256)",
        "safeTransferFrom(address,address,uint256,bytes)",
      ]);
    });
  });

  describe("classify", function () {
    const restricted: Record<string, RestrictedEntry> = {
      "Thing.mint": { who: "minter", role: "MINTER_ROLE" },
      "*.grantRole": { who: "role admin", role: "DEFAULT_ADMIN_ROLE" },
    };
    const permissionless: Record<string, PermissionlessEntry> = {
      "Thing.safeTransferFrom(address,address,uint256)": { reason: "ERC-721 checks approval" },
    };

    it("reports a function on neither list as unlisted", function () {
      const unlisted = surface.filter((f) => classify(f, restricted, permissionless).kind === "unlisted");
      expect(unlisted.map((f) => f.signature)).to.deep.equal(["safeTransferFrom(address,address,uint256,bytes)"]);
    });

    it("matches inherited functions through `*` keys", function () {
      const grant = bySignature("grantRole(bytes32,address)");
      expect(classify(grant, restricted, permissionless)).to.include({ kind: "restricted", key: "*.grantRole" });
    });

    it("does not let an overloaded function match by bare name", function () {
      const overloaded = bySignature("safeTransferFrom(address,address,uint256,bytes)");
      const withName = { ...permissionless, "Thing.safeTransferFrom": { reason: "too broad a key" } };
      expect(classify(overloaded, restricted, withName).kind).to.equal("unlisted");
    });

    it("reports a function on both lists", function () {
      const both = { ...permissionless, "Thing.mint": { reason: "contradicts the restricted entry" } };
      expect(classify(bySignature("mint(address,uint256)"), restricted, both).kind).to.equal("listed twice");
    });
  });

  describe("staleKeys", function () {
    it("reports entries matching no function", function () {
      expect(staleKeys(["Thing.mint", "Thing.burn", "*.grantRole", "*.renounceRole"], surface)).to.deep.equal([
        "Thing.burn",
        "*.renounceRole",
      ]);
    });
  });
});
