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
  return JSON.parse(text) as { name: string; description: string; image: string; attributes: Attribute[] };
}

const SVG_PREFIX = "data:image/svg+xml;base64,";

/** The metadata's image, decoded: checks the data URI prefix and that the SVG is well-formed XML. */
async function svgOf(nft: GpuAssetNFT, assetId: bigint): Promise<string> {
  const { image } = await metadataOf(nft, assetId);
  expect(image.startsWith(SVG_PREFIX), "SVG data URI prefix").to.equal(true);
  const svg = Buffer.from(image.slice(SVG_PREFIX.length), "base64").toString("utf8");
  assertWellFormedXml(svg);
  return svg;
}

/**
 * A strict check of the XML subset the card uses: elements with single- or double-quoted attributes,
 * text, the five predefined entities. Throws on an unbalanced tag, a raw `<` or `&` in text or in an
 * attribute value, or a control character. (The browser test parses and renders it in Chromium too.)
 */
function assertWellFormedXml(doc: string): void {
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(doc)) throw new Error("control character in XML");
  const stack: string[] = [];
  const token =
    /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+=(?:'[^'<&]*(?:&(?:amp|lt|gt|quot|apos);[^'<&]*)*'|"[^"<&]*"))*)\s*(\/?)>|([^<]+)/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = token.exec(doc)) !== null) {
    consumed = token.lastIndex;
    const [, closing, name, , selfClosing, text] = match;
    if (text !== undefined) {
      if (stack.length === 0) throw new Error(`text outside the root: ${text}`);
      if (/&(?!(?:amp|lt|gt|quot|apos);)/.test(text)) throw new Error(`raw & in text: ${text}`);
    } else if (closing) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
    } else if (!selfClosing) {
      if (stack.length === 0 && consumed !== token.lastIndex) throw new Error("second root");
      stack.push(name);
    }
  }
  if (consumed !== doc.length) throw new Error(`not XML at offset ${consumed}: ${doc.slice(consumed, consumed + 40)}`);
  if (stack.length !== 0) throw new Error(`unclosed <${stack.join("> <")}>`);
}

/** The text content of the card's <text> elements, entities decoded, in document order. */
function textsOf(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, "&"),
  );
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
    expect(Object.keys(doc)).to.deep.equal(["name", "description", "image", "attributes"]);
    expect(doc.name).to.equal(`GPU server #1: 8 x ${gpuModel}`);
  });

  it("renders an empty datacenter as (none) in the description and an empty attribute", async function () {
    const { nft, registrar, operator } = await loadFixture(deployedFixture);
    await nft.connect(registrar).mint(operator.address, h100Spec("E", { datacenter: "" }));
    const doc = await metadataOf(nft, 1n);
    expect(doc.description).to.contain("in datacenter (none).");
    expect(attribute(doc.attributes, "Datacenter").value).to.equal("");
  });

  describe("image (the server's card, SVG)", function () {
    it("draws the asset number, status, model, GPU count and memory, datacenter and TDP", async function () {
      const { nft, assetId } = await loadFixture(mintedFixture);
      const svg = await svgOf(nft, assetId);
      expect(svg.startsWith("<svg xmlns='http://www.w3.org/2000/svg' width='400' height='400'")).to.equal(true);
      expect(textsOf(svg)).to.deep.equal([
        "GPU SERVER #1",
        "Active",
        "NVIDIA H100 80GB HBM3",
        "8 GPUs, 81559 MiB each",
        "DATACENTER",
        "eu-west-fra2",
        "TDP 700 W per GPU",
      ]);
      // One tile per GPU besides the card and the badge.
      expect([...svg.matchAll(/<rect /g)].length).to.equal(2 + 8);
      expect(svg).to.contain("fill='#22c55e'"); // the Active badge
    });

    it("follows the status: amber Maintenance and slate Retired badges", async function () {
      const { nft, registrar, assetId } = await loadFixture(mintedFixture);
      await nft.connect(registrar).setStatus(assetId, Status.Maintenance);
      let svg = await svgOf(nft, assetId);
      expect(textsOf(svg)[1]).to.equal("Maintenance");
      expect(svg).to.contain("fill='#f59e0b'");
      await nft.connect(registrar).setStatus(assetId, Status.Retired);
      svg = await svgOf(nft, assetId);
      expect(textsOf(svg)[1]).to.equal("Retired");
      expect(svg).to.contain("fill='#64748b'");
    });

    it("draws one GPU in the singular, and 16 tiles then '+N more' for a large server", async function () {
      const { nft, registrar, operator } = await loadFixture(deployedFixture);
      await nft.connect(registrar).mint(operator.address, h100Spec("S", { gpuCount: 1 }));
      await nft.connect(registrar).mint(operator.address, h100Spec("L", { gpuCount: 65_535 }));
      const single = await svgOf(nft, 1n);
      expect(textsOf(single)[3]).to.equal("1 GPU, 81559 MiB each");
      expect([...single.matchAll(/<rect /g)].length).to.equal(2 + 1);
      const large = await svgOf(nft, 2n);
      expect(textsOf(large)).to.include("+65519 more");
      expect([...large.matchAll(/<rect /g)].length).to.equal(2 + 16);
    });

    it("XML-escapes registrar strings and turns control characters into spaces, so the card stays well-formed", async function () {
      const { nft, registrar, operator } = await loadFixture(deployedFixture);
      const gpuModel = "A&B <x> \"q\" 'a'\n\t</svg>";
      const datacenter = "eu<&>'\"";
      await nft.connect(registrar).mint(operator.address, h100Spec("X", { gpuModel, datacenter }));
      const svg = await svgOf(nft, 1n);
      expect(svg).to.contain("A&amp;B &lt;x&gt; &quot;q&quot; &apos;a&apos;  &lt;/svg&gt;");
      expect(textsOf(svg)[2]).to.equal("A&B <x> \"q\" 'a'  </svg>");
      expect(textsOf(svg)[5]).to.equal(datacenter);
    });

    it("writes (none) for an empty datacenter", async function () {
      const { nft, registrar, operator } = await loadFixture(deployedFixture);
      await nft.connect(registrar).mint(operator.address, h100Spec("E", { datacenter: "" }));
      expect(textsOf(await svgOf(nft, 1n))[5]).to.equal("(none)");
    });

    it("follows an updated spec", async function () {
      const { nft, registrar, assetId } = await loadFixture(mintedFixture);
      await nft.connect(registrar).updateSpec(assetId, h100Spec("A", { datacenter: "us-east-iad1", gpuCount: 4 }));
      const texts = textsOf(await svgOf(nft, assetId));
      expect(texts[3]).to.equal("4 GPUs, 81559 MiB each");
      expect(texts[5]).to.equal("us-east-iad1");
    });
  });

  it("reverts ERC721NonexistentToken for an unknown id", async function () {
    const { nft } = await loadFixture(mintedFixture);
    await expect(nft.tokenURI(2n)).to.be.revertedWithCustomError(nft, "ERC721NonexistentToken").withArgs(2n);
  });
});
