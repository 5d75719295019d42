// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Base64 } from "@openzeppelin/contracts/utils/Base64.sol";
import { Strings } from "@openzeppelin/contracts/utils/Strings.sol";
import { AssetStatus, GpuSpec } from "../types/GpuAssetTypes.sol";
import { GpuAssetCard } from "./GpuAssetCard.sol";

/// @title GpuAssetMetadata — on-chain ERC-721 metadata of a GPU asset
/// @notice Renders `tokenURI` as `data:application/json;base64,<JSON>`: a name, a description, an `image`
/// (the server's card drawn by `GpuAssetCard`, an SVG data URI) and one OpenSea-style attribute per spec
/// field plus the status. Pure: no storage; everything is built when the view is called, nothing at mint.
/// @dev Registrar-given strings (model, datacenter) are JSON-escaped, so the output is always valid JSON.
library GpuAssetMetadata {
    using Strings for uint256;

    /// @dev A double quote, written as an escape so that the JSON below needs no single-quoted literals.
    string private constant _Q = "\x22";

    /// @notice The metadata JSON of an asset (not encoded).
    /// @param assetId The asset.
    /// @param spec Its spec.
    /// @param status Its status.
    /// @return The JSON document.
    function json(uint256 assetId, GpuSpec memory spec, AssetStatus status) internal pure returns (string memory) {
        string memory model = Strings.escapeJSON(spec.gpuModel);
        string memory datacenter = Strings.escapeJSON(spec.datacenter);
        string memory gpuCount = uint256(spec.gpuCount).toString();
        return
            string.concat(
                "{",
                _nameAndDescription(assetId, spec, model, datacenter, gpuCount),
                ",",
                _member("image", _quoted(GpuAssetCard.imageURI(assetId, spec, status))),
                ",",
                _member("attributes", string.concat("[", _attributes(spec, model, datacenter, gpuCount, status), "]")),
                "}"
            );
    }

    /// @notice The `tokenURI` of an asset: its metadata JSON as a base64 data URI.
    /// @param assetId The asset.
    /// @param spec Its spec.
    /// @param status Its status.
    /// @return `data:application/json;base64,...`
    function tokenURI(uint256 assetId, GpuSpec memory spec, AssetStatus status) internal pure returns (string memory) {
        return string.concat("data:application/json;base64,", Base64.encode(bytes(json(assetId, spec, status))));
    }

    /// @dev `"name":"…","description":"…"`; the strings must already be JSON-escaped.
    function _nameAndDescription(
        uint256 assetId,
        GpuSpec memory spec,
        string memory escapedModel,
        string memory escapedDatacenter,
        string memory gpuCount
    ) private pure returns (string memory) {
        string memory name = string.concat("GPU server #", assetId.toString(), ": ", gpuCount, " x ", escapedModel);
        string memory description = string.concat(
            "A tokenized GPU server: ",
            gpuCount,
            " x ",
            escapedModel,
            " (",
            uint256(spec.vramMiBPerGpu).toString(),
            " MiB, ",
            uint256(spec.tdpWattsPerGpu).toString(),
            " W TDP each) in datacenter ",
            bytes(escapedDatacenter).length == 0 ? "(none)" : escapedDatacenter,
            "."
        );
        return string.concat(_member("name", _quoted(name)), ",", _member("description", _quoted(description)));
    }

    function _attributes(
        GpuSpec memory spec,
        string memory escapedModel,
        string memory escapedDatacenter,
        string memory gpuCount,
        AssetStatus status
    ) private pure returns (string memory) {
        return
            string.concat(
                _text("GPU model", escapedModel),
                ",",
                _number("GPU count", gpuCount),
                ",",
                _number("VRAM per GPU (MiB)", uint256(spec.vramMiBPerGpu).toString()),
                ",",
                _number("TDP per GPU (W)", uint256(spec.tdpWattsPerGpu).toString()),
                ",",
                _text("Datacenter", escapedDatacenter),
                ",",
                _text("Serials hash", uint256(spec.serialsHash).toHexString(32)),
                ",",
                _text("Status", GpuAssetCard.statusName(status))
            );
    }

    /// @dev `{"trait_type":"<trait>","value":"<value>"}`; `value` must already be JSON-escaped.
    function _text(string memory trait, string memory value) private pure returns (string memory) {
        return string.concat("{", _member("trait_type", _quoted(trait)), ",", _member("value", _quoted(value)), "}");
    }

    /// @dev `{"trait_type":"<trait>","display_type":"number","value":<value>}`; `value` is a decimal integer.
    function _number(string memory trait, string memory value) private pure returns (string memory) {
        return
            string.concat(
                "{",
                _member("trait_type", _quoted(trait)),
                ",",
                _member("display_type", _quoted("number")),
                ",",
                _member("value", value),
                "}"
            );
    }

    /// @dev `"<key>":<rawValue>`.
    function _member(string memory key, string memory rawValue) private pure returns (string memory) {
        return string.concat(_quoted(key), ":", rawValue);
    }

    function _quoted(string memory value) private pure returns (string memory) {
        return string.concat(_Q, value, _Q);
    }
}
