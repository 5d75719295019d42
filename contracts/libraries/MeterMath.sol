// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Meter } from "../types/OracleTypes.sol";

/// @title MeterMath — packed readings, physical bounds and interpolation of cumulative GPU meters
/// @notice Pure functions, no storage: how a 28-byte reading unpacks, when the change between two
/// readings is physically possible, and an asset's meter at any time between two readings.
library MeterMath {
    /// @notice Denominator of basis points.
    uint256 internal constant BPS = 10_000;

    /// @notice Unpacks a packed reading (layout in `OracleTypes.READING_BYTES`).
    /// @param reading The packed reading.
    /// @return assetId The asset.
    /// @return previousBatch The batch of the asset's previous reading (0: none).
    /// @return busyGpuSeconds Cumulative busy GPU-seconds.
    /// @return availableGpuSeconds Cumulative available GPU-seconds.
    /// @return energyJ Cumulative joules.
    function unpack(
        bytes28 reading
    )
        internal
        pure
        returns (
            uint256 assetId,
            uint32 previousBatch,
            uint64 busyGpuSeconds,
            uint64 availableGpuSeconds,
            uint64 energyJ
        )
    {
        uint256 word = uint256(bytes32(reading)) >> 32;
        energyJ = uint64(word);
        availableGpuSeconds = uint64(uint48(word >> 64));
        busyGpuSeconds = uint64(uint48(word >> 112));
        previousBatch = uint32(word >> 160);
        assetId = uint32(word >> 192);
    }

    /// @notice Whether `later` can follow `earlier` on an asset with `gpuCount` GPUs of `tdpWattsPerGpu`
    /// watts: time moves forward, no counter decreases, and over dt = the time between them
    /// busy <= available <= gpuCount * dt and energy <= gpuCount * TDP * dt * (1 + energyMarginBps / 10000).
    /// @dev Products stay below 2^113 (16 + 16 + 64 + 17 bits): no overflow.
    /// @param earlier The earlier reading.
    /// @param later The later reading.
    /// @param gpuCount GPUs in the asset.
    /// @param tdpWattsPerGpu TDP per GPU, watts.
    /// @param energyMarginBps Allowed energy above TDP, basis points.
    /// @return True when physically possible.
    function isPossible(
        Meter memory earlier,
        Meter memory later,
        uint16 gpuCount,
        uint16 tdpWattsPerGpu,
        uint16 energyMarginBps
    ) internal pure returns (bool) {
        if (!(later.timestamp > earlier.timestamp)) return false;
        if (
            later.busyGpuSeconds < earlier.busyGpuSeconds ||
            later.availableGpuSeconds < earlier.availableGpuSeconds ||
            later.energyJ < earlier.energyJ
        ) return false;
        uint256 busy = later.busyGpuSeconds - earlier.busyGpuSeconds;
        uint256 available = later.availableGpuSeconds - earlier.availableGpuSeconds;
        uint256 capacityGpuSeconds = uint256(gpuCount) * (later.timestamp - earlier.timestamp);
        if (busy > available || available > capacityGpuSeconds) return false;
        uint256 maxEnergyJ = (capacityGpuSeconds * tdpWattsPerGpu * (BPS + energyMarginBps)) / BPS;
        return !(later.energyJ - earlier.energyJ > maxEnergyJ);
    }

    /// @notice The meter at `time` by linear interpolation between `earlier` and `later`
    /// (earlier.timestamp < time <= later.timestamp, counters not decreasing), each counter rounded down.
    /// @param earlier The reading before `time`.
    /// @param later The first reading at or after `time`.
    /// @param time The time, unix seconds.
    /// @return meter The interpolated meter, stamped `time`.
    function interpolate(
        Meter memory earlier,
        Meter memory later,
        uint64 time
    ) internal pure returns (Meter memory meter) {
        uint256 elapsed = time - earlier.timestamp;
        uint256 span = later.timestamp - earlier.timestamp;
        meter = Meter({
            timestamp: time,
            busyGpuSeconds: _between(earlier.busyGpuSeconds, later.busyGpuSeconds, elapsed, span),
            availableGpuSeconds: _between(earlier.availableGpuSeconds, later.availableGpuSeconds, elapsed, span),
            energyJ: _between(earlier.energyJ, later.energyJ, elapsed, span)
        });
    }

    /// @dev from + (to - from) * elapsed / span, rounded down; elapsed <= span, from <= to.
    /// The product is below 2^128 (64-bit delta times 64-bit elapsed), so no overflow.
    function _between(uint64 from, uint64 to, uint256 elapsed, uint256 span) private pure returns (uint64) {
        return from + uint64((uint256(to - from) * elapsed) / span);
    }
}
