// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Base64 } from "@openzeppelin/contracts/utils/Base64.sol";
import { Strings } from "@openzeppelin/contracts/utils/Strings.sol";
import { AssetStatus, GpuSpec } from "../types/GpuAssetTypes.sol";

/// @title GpuAssetMetadata — on-chain ERC-721 metadata of a GPU asset
/// @notice Renders `tokenURI` as `data:application/json;base64,<JSON>`: a name, a description and one
/// OpenSea-style attribute per spec field plus the status. Pure: no storage.
/// @dev Registrar-given strings (model, datacenter) are JSON-escaped, so the output is always valid JSON.
library GpuAssetMetadata {
    using Strings for uint256;

    /// @dev A double quote, written as an escape so that the JSON below needs no single-quoted literals.
    string private constant _Q = "\x22";

    /// @notice The display name of a status.
    /// @param status The status.
    /// @return Its name: "Active", "Maintenance" or "Retired".
    function statusName(AssetStatus status) internal pure returns (string memory) {
        if (status == AssetStatus.Active) return "Active";
        if (status == AssetStatus.Maintenance) return "Maintenance";
        return "Retired";
    }

    /// @notice The metadata JSON of an asset (not encoded).
    /// @param assetId The asset.
    /// @param spec Its spec.
    /// @param status Its status.
    /// @return The JSON document.
    function json(uint256 assetId, GpuSpec memory spec, AssetStatus status) internal pure returns (string memory) {
        string memory model = Strings.escapeJSON(spec.gpuModel);
        string memory datacenter = Strings.escapeJSON(spec.datacenter);
        string memory gpuCount = uint256(spec.gpuCount).toString();
        string memory name = string.concat("GPU server #", assetId.toString(), ": ", gpuCount, " x ", model);
        string memory description = string.concat(
            "A tokenized GPU server: ",
            gpuCount,
            " x ",
            model,
            " (",
            uint256(spec.vramMiBPerGpu).toString(),
            " MiB, ",
            uint256(spec.tdpWattsPerGpu).toString(),
            " W TDP each) in datacenter ",
            bytes(datacenter).length == 0 ? "(none)" : datacenter,
            "."
        );
        return
            string.concat(
                "{",
                _member("name", _quoted(name)),
                ",",
                _member("description", _quoted(description)),
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
                _text("Status", statusName(status))
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
