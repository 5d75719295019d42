// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Byte length of one packed reading (a Merkle leaf of a batch).
// Layout, big-endian: assetId uint32 | previousBatch uint32 | busyGpuSeconds uint48 |
// availableGpuSeconds uint48 | energyJ uint64. See docs/oracle.md for why these widths cannot
// overflow for any asset the NFT can describe over ten years.
uint256 constant READING_BYTES = 28;

/// @notice Values of an asset's cumulative meters at one point in time.
/// @dev Units: seconds, GPU-seconds, joules (the DESIGN units table).
struct Meter {
    // slot 0
    /// Unix seconds the values refer to.
    uint64 timestamp;
    /// Cumulative busy GPU-seconds since the asset's first report.
    uint64 busyGpuSeconds;
    /// Cumulative available (healthy, rentable) GPU-seconds since the asset's first report.
    uint64 availableGpuSeconds;
    /// Cumulative energy in joules since the asset's first report.
    uint64 energyJ;
}

/// @notice A Merkle proof that one packed reading belongs to an accepted batch.
/// @dev Built from chain data alone by `src/meterHistory.ts`. The batch header fields are checked
/// against the oracle's one stored commitment per batch.
struct ReadingProof {
    /// Index of the batch the reading was published in (1-based; 0 marks an absent proof).
    uint32 batchIndex;
    /// The batch's timestamp: the time every reading of the batch refers to.
    uint64 batchTimestamp;
    /// The block time at which the oracle accepted the batch.
    uint64 acceptedAt;
    /// The signer-set version the batch was signed under.
    uint64 configVersion;
    /// The packed reading (`READING_BYTES` bytes, layout above).
    bytes28 reading;
    /// Sibling hashes from the leaf up to the batch's readings root (pairs hashed sorted).
    bytes32[] path;
}

/// @notice The proofs of an asset's meter at one time: the first reading at or after it (`later`)
/// and the reading `later` links to (`earlier`; an empty proof where `IUsageOracle.meterAt` does not
/// need it). A boundary whose `later.batchIndex` is 0 is absent.
struct MeterBoundary {
    ReadingProof earlier;
    ReadingProof later;
}

/// @notice A reading whose proof checked out, unpacked.
struct ProvenReading {
    /// The GPU asset (GpuAssetNFT token id).
    uint256 assetId;
    /// The batch the reading was published in.
    uint32 batchIndex;
    /// The batch holding this asset's previous reading; 0 when this is the asset's first reading.
    uint32 previousBatch;
    /// The block time at which the oracle accepted the batch.
    uint64 acceptedAt;
    /// The meter values, stamped with the batch timestamp.
    Meter meter;
}

/// @notice Which bound of an asset's meter at a time to return when the two readings around that
/// time cannot both be true (their delta is physically impossible): the time between them is then
/// unproven, and a consumer picks the bound that bills (or credits) none of it.
enum MeterBound {
    /// The earlier reading's values: what a window ending at that time may count.
    Lower,
    /// The later reading's values: what a window starting at that time may count from.
    Upper
}

/// @notice How a meter at a chosen time was derived.
enum MeterSource {
    /// Linear interpolation between two adjacent readings around the time.
    Interpolated,
    /// A reading stamped exactly at the time.
    Exact,
    /// The time is at or before the asset's first reading: its values (nothing earlier is proven).
    FirstReading,
    /// The two readings around the time are physically impossible together: the requested bound.
    UnusablePair
}

/// @notice An asset's meter at a chosen time, as `IUsageOracle.meterAt` proves it.
struct MeterAt {
    /// The values; `meter.timestamp` is the requested time.
    Meter meter;
    /// How the values were derived.
    MeterSource source;
    /// The latest acceptance time of the readings used (a consumer's dispute window runs from it).
    uint64 acceptedAt;
}
