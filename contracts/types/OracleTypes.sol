// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice One signed, cumulative meter reading of one asset (the entry and EIP-712 type).
/// @dev EIP-712: `Reading(uint256 assetId,uint64 timestamp,uint64 busyGpuSeconds,uint64 availableGpuSeconds,uint64 energyJ)`.
struct Reading {
    /// The GPU asset (GpuAssetNFT token id).
    uint256 assetId;
    /// Unix timestamp (seconds) at which the meters were read.
    uint64 timestamp;
    /// Cumulative busy GPU-seconds since the asset's first report.
    uint64 busyGpuSeconds;
    /// Cumulative available (healthy, rentable) GPU-seconds since the asset's first report.
    uint64 availableGpuSeconds;
    /// Cumulative energy in joules since the asset's first report.
    uint64 energyJ;
}

/// @notice The latest accepted reading of an asset, as stored: one slot.
/// @dev timestamp == 0 means the asset has never been reported.
struct Meter {
    // slot 0
    uint64 timestamp;
    uint64 busyGpuSeconds;
    uint64 availableGpuSeconds;
    uint64 energyJ;
}

/// @notice Which cumulative counter of a reading an error refers to.
enum MeterField {
    BusyGpuSeconds,
    AvailableGpuSeconds,
    EnergyJ
}
