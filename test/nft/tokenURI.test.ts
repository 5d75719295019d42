import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Status, deployedFixture, h100Spec, mintedFixture } from "./fixtures";
import type { GpuAssetNFT } from "../../typechain-types";

const PREFIX = "data:application/json;base64,";

interface Attribute {
  trait_type: string;
  value: string | number;
  display_type?: string;
}

/** Decodes the data URI and parses the JSON: throws if either is malformed. */
async function metadataOf(nft: GpuAssetNFT, assetId: bigint) {
  const uri = await nft.tokenURI(assetId);
  expect(uri.startsWith(PREFIX), "data URI prefix").to.equal(true);
  const text = Buffer.from(uri.slice(PREFIX.length), "base64").toString("utf8");
  return JSON.parse(text) as { name: string; description: string; attributes: Attribute[] };
}

function attribute(attributes: Attribute[], trait: string): Attribute {
  const found = attributes.find((a) => a.trait_type === trait);
  if (!found) throw new Error(`no attribute ${trait}`);
  return found;
}

describe("GpuAssetNFT tokenURI", function () {
  it("is base64 JSON with a name, a description and every spec field and the status", async function () {
    const { nft, assetId, spec } = await loadFixture(mintedFixture);
    const doc = await metadataOf(nft, assetId);
    expect(doc.name).to.equal("GPU server #1: 8 x NVIDIA H100 80GB HBM3");
    expect(doc.description).to.equal(
      "A tokenized GPU server: 8 x NVIDIA H100 80GB HBM3 (81559 MiB, 700 W TDP each) in datacenter eu-west-fra2.",
    );
    expect(doc.attributes).to.deep.equal([
      { trait_type: "GPU model", value: "NVIDIA H100 80GB HBM3" },
      { trait_type: "GPU count", display_type: "number", value: 8 },
      { trait_type: "VRAM per GPU (MiB)", display_type: "number", value: 81559 },
      { trait_type: "TDP per GPU (W)", display_type: "number", value: 700 },
      { trait_type: "Datacenter", value: "eu-west-fra2" },
      { trait_type: "Serials hash", value: spec.serialsHash },
      { trait_type: "Status", value: "Active" },
    ]);
  });

  it("shows the current status after each change", async function () {
    const { nft, registrar, assetId } = await loadFixture(mintedFixture);
    await nft.connect(registrar).setStatus(assetId, Status.Maintenance);
    expect(attribute((await metadataOf(nft, assetId)).attributes, "Status").value).to.equal("Maintenance");
    await nft.connect(registrar).setStatus(assetId, Status.Retired);
    expect(attribute((await metadataOf(nft, assetId)).attributes, "Status").value).to.equal("Retired");
  });

  it("shows an updated spec", async function () {
    const { nft, registrar, assetId } = await loadFixture(mintedFixture);
    await nft.connect(registrar).updateSpec(assetId, h100Spec("A", { datacenter: "us-east-iad1", gpuCount: 4 }));
    const doc = await metadataOf(nft, assetId);
    expect(attribute(doc.attributes, "Datacenter").value).to.equal("us-east-iad1");
    expect(attribute(doc.attributes, "GPU count").value).to.equal(4);
  });

  it("stays valid JSON for strings with quotes, backslashes and control characters", async function () {
    const { nft, registrar, operator } = await loadFixture(deployedFixture);
    const gpuModel = 'A"B\\C\n</script>\t{x}';
    const datacenter = '","evil":"1';
    await nft.connect(registrar).mint(operator.address, h100Spec("Q", { gpuModel, datacenter }));
    const doc = await metadataOf(nft, 1n);
    expect(attribute(doc.attributes, "GPU model").value).to.equal(gpuModel);
    expect(attribute(doc.attributes, "Datacenter").value).to.equal(datacenter);
    expect(Object.keys(doc)).to.deep.equal(["name", "description", "attributes"]);
    expect(doc.name).to.equal(`GPU server #1: 8 x ${gpuModel}`);
  });

  it("renders an empty datacenter as (none) in the description and an empty attribute", async function () {
    const { nft, registrar, operator } = await loadFixture(deployedFixture);
    await nft.connect(registrar).mint(operator.address, h100Spec("E", { datacenter: "" }));
    const doc = await metadataOf(nft, 1n);
    expect(doc.description).to.contain("in datacenter (none).");
    expect(attribute(doc.attributes, "Datacenter").value).to.equal("");
  });

  it("reverts ERC721NonexistentToken for an unknown id", async function () {
    const { nft } = await loadFixture(mintedFixture);
    await expect(nft.tokenURI(2n)).to.be.revertedWithCustomError(nft, "ERC721NonexistentToken").withArgs(2n);
  });
});
