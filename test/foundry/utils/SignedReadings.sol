// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Vm } from "./Vm.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { Meter, Reading } from "../../../contracts/types/OracleTypes.sol";

/// @title SignedReadings — posts meter readings to the real UsageOracle, signed like a feeder does
/// @notice The escrow and vault campaigns report usage through `UsageOracle.submit`: each batch is signed
/// with the `sign` cheatcode over the digest the oracle itself computes (`batchDigest`), so no EIP-712
/// type is written out twice. The campaigns use one signer with threshold 1.
library SignedReadings {
    /// @dev forge's cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @notice Signs `readings` (sorted by strictly increasing asset id) with `signerKey` under the
    /// oracle's current signer-set version and submits them; reverts with the oracle's error if refused.
    /// @return accepted The number of readings the oracle accepted.
    function submitSigned(
        UsageOracle oracle,
        uint256 signerKey,
        Reading[] memory readings
    ) internal returns (uint256 accepted) {
        uint64 version = oracle.configVersion();
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, oracle.batchDigest(version, readings));
        bytes[] memory signatures = new bytes[](1);
        signatures[0] = abi.encodePacked(r, s, v);
        return oracle.submit(version, readings, signatures);
    }

    /// @notice As `submitSigned`, for one reading of one asset given as the meter it should become.
    function submitOne(
        UsageOracle oracle,
        uint256 signerKey,
        uint256 assetId,
        Meter memory meter
    ) internal returns (uint256 accepted) {
        Reading[] memory readings = new Reading[](1);
        readings[0] = toReading(assetId, meter);
        return submitSigned(oracle, signerKey, readings);
    }

    /// @notice The reading of `assetId` that carries `meter`.
    function toReading(uint256 assetId, Meter memory meter) internal pure returns (Reading memory) {
        return
            Reading({
                assetId: assetId,
                timestamp: meter.timestamp,
                busyGpuSeconds: meter.busyGpuSeconds,
                availableGpuSeconds: meter.availableGpuSeconds,
                energyJ: meter.energyJ
            });
    }
}
