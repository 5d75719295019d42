// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Base64 } from "@openzeppelin/contracts/utils/Base64.sol";
import { Strings } from "@openzeppelin/contracts/utils/Strings.sol";
import { AssetStatus, GpuSpec } from "../types/GpuAssetTypes.sol";

/// @title GpuAssetCard — the server's card, an SVG image built on chain
/// @notice Draws a 400 x 400 card: asset number, a status badge (green Active, amber Maintenance, slate
/// Retired), the GPU model, the GPU count with memory per GPU, one tile per GPU (at most 16, then "+N more"),
/// the datacenter and the TDP. Pure: no storage; it is rendered when `tokenURI` is called.
/// @dev Attribute values are single-quoted (valid XML) so that every literal here is a plain Solidity string.
/// Registrar-given strings are XML-escaped by `escapeXML`, so the document is always well-formed XML.
library GpuAssetCard {
    using Strings for uint256;

    /// @notice Side of the square card, in SVG user units.
    uint256 internal constant SIZE = 400;

    /// @notice Most GPU tiles drawn (two rows of eight); larger servers get a "+N more" line.
    uint256 internal constant MAX_TILES = 16;

    /// @notice The card as an SVG document (not encoded).
    /// @param assetId The asset.
    /// @param spec Its spec.
    /// @param status Its status.
    /// @return The SVG document.
    function svg(uint256 assetId, GpuSpec memory spec, AssetStatus status) internal pure returns (string memory) {
        return
            string.concat(
                "<svg xmlns='",
                "http://www.w3.org/2000/svg",
                "' width='400' height='400'",
                " viewBox='0 0 400 400'",
                " font-family='monospace'>",
                _rect(1, 1, SIZE - 2, SIZE - 2, 20, "#0b1220"),
                _header(assetId, status),
                _gpus(spec),
                _footer(spec),
                "</svg>"
            );
    }

    /// @notice The card as a base64 SVG data URI (the metadata's `image`).
    /// @param assetId The asset.
    /// @param spec Its spec.
    /// @param status Its status.
    /// @return `data:image/svg+xml;base64,...`
    function imageURI(uint256 assetId, GpuSpec memory spec, AssetStatus status) internal pure returns (string memory) {
        return string.concat("data:image/svg+xml;base64,", Base64.encode(bytes(svg(assetId, spec, status))));
    }

    /// @notice The display name of a status.
    /// @param status The status.
    /// @return Its name: "Active", "Maintenance" or "Retired".
    function statusName(AssetStatus status) internal pure returns (string memory) {
        if (status == AssetStatus.Active) return "Active";
        if (status == AssetStatus.Maintenance) return "Maintenance";
        return "Retired";
    }

    /// @notice The badge colour of a status.
    /// @param status The status.
    /// @return A CSS hex colour: green for Active, amber for Maintenance, slate for Retired.
    function statusColor(AssetStatus status) internal pure returns (string memory) {
        if (status == AssetStatus.Active) return "#22c55e";
        if (status == AssetStatus.Maintenance) return "#f59e0b";
        return "#64748b";
    }

    /// @notice Escapes a string for XML character data: `&`, `<`, `>`, `"` and `'` become entities, and the
    /// control characters below 0x20 (which XML 1.0 forbids) become spaces. Other bytes pass unchanged.
    /// @param value The raw string.
    /// @return The escaped string.
    function escapeXML(string memory value) internal pure returns (string memory) {
        bytes memory raw = bytes(value);
        bytes memory out;
        for (uint256 i = 0; i < raw.length; ++i) {
            bytes1 c = raw[i];
            if (c == "&") out = bytes.concat(out, "&amp;");
            else if (c == "<") out = bytes.concat(out, "&lt;");
            else if (c == ">") out = bytes.concat(out, "&gt;");
            else if (c == 0x22) out = bytes.concat(out, "&quot;");
            else if (c == "'") out = bytes.concat(out, "&apos;");
            else if (uint8(c) < 0x20) out = bytes.concat(out, " ");
            else out = bytes.concat(out, c);
        }
        return string(out);
    }

    /// @dev Asset number and status badge.
    function _header(uint256 assetId, AssetStatus status) private pure returns (string memory) {
        return
            string.concat(
                _text(24, 50, 15, "#8aa0c8", "", string.concat("GPU SERVER #", assetId.toString())),
                _rect(268, 28, 108, 30, 15, statusColor(status)),
                _text(322, 48, 14, "#0b1220", "middle", statusName(status))
            );
    }

    /// @dev Model, GPU count and memory, and the GPU tiles.
    function _gpus(GpuSpec memory spec) private pure returns (string memory) {
        uint256 count = spec.gpuCount;
        string memory line = string.concat(
            count.toString(),
            count == 1 ? " GPU, " : " GPUs, ",
            uint256(spec.vramMiBPerGpu).toString(),
            " MiB each"
        );
        return
            string.concat(
                _text(24, 108, 18, "#f1f5f9", "", escapeXML(spec.gpuModel)),
                _text(24, 140, 15, "#cbd5e1", "", line),
                _tiles(count)
            );
    }

    /// @dev One 36 x 36 tile per GPU, eight to a row, at most `MAX_TILES`, then "+N more".
    function _tiles(uint256 count) private pure returns (string memory tiles) {
        uint256 drawn = count > MAX_TILES ? MAX_TILES : count;
        for (uint256 i = 0; i < drawn; ++i) {
            tiles = string.concat(tiles, _rect(24 + (i % 8) * 44, 166 + (i / 8) * 44, 36, 36, 6, "#1e3a5f"));
        }
        if (count > MAX_TILES) {
            tiles = string.concat(
                tiles,
                _text(376, 280, 14, "#8aa0c8", "end", string.concat("+", (count - MAX_TILES).toString(), " more"))
            );
        }
    }

    /// @dev Datacenter and TDP.
    function _footer(GpuSpec memory spec) private pure returns (string memory) {
        return
            string.concat(
                _text(24, 316, 13, "#8aa0c8", "", "DATACENTER"),
                _text(
                    24,
                    342,
                    18,
                    "#f1f5f9",
                    "",
                    bytes(spec.datacenter).length == 0 ? "(none)" : escapeXML(spec.datacenter)
                ),
                _text(
                    24,
                    374,
                    13,
                    "#8aa0c8",
                    "",
                    string.concat("TDP ", uint256(spec.tdpWattsPerGpu).toString(), " W per GPU")
                )
            );
    }

    /// @dev `<rect …/>` with a 2-unit stroke a shade lighter than the card's border.
    function _rect(
        uint256 x,
        uint256 y,
        uint256 width,
        uint256 height,
        uint256 radius,
        string memory fill
    ) private pure returns (string memory) {
        return
            string.concat(
                string.concat("<rect x='", x.toString(), "' y='", y.toString()),
                string.concat("' width='", width.toString(), "' height='", height.toString()),
                string.concat("' rx='", radius.toString(), "' fill='", fill, "' stroke='#1f2a44'/>")
            );
    }

    /// @dev `<text …>body</text>`; `body` must already be XML-escaped; an empty `anchor` is the default (start).
    function _text(
        uint256 x,
        uint256 y,
        uint256 fontSize,
        string memory fill,
        string memory anchor,
        string memory body
    ) private pure returns (string memory) {
        return
            string.concat(
                string.concat("<text x='", x.toString(), "' y='", y.toString(), "' font-size='", fontSize.toString()),
                string.concat(
                    "' fill='",
                    fill,
                    bytes(anchor).length == 0 ? "" : string.concat("' text-anchor='", anchor)
                ),
                string.concat("'>", body, "</text>")
            );
    }
}
