// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Lifecycle status of a GPU asset.
/// @dev Active: can be leased and metered. Maintenance: metered, not leasable for new leases.
/// Retired: neither leased nor metered; terminal.
enum AssetStatus {
    Active,
    Maintenance,
    Retired
}

/// @notice The on-chain specification of one GPU server, as given at mint (the entry type).
/// @dev The NFT may store it packed differently; this is the shape every caller sees.
struct GpuSpec {
    /// GPU model as nvidia-smi names it, e.g. "NVIDIA H100 80GB HBM3" (non-empty, at most 31 bytes).
    string gpuModel;
    /// Region / datacenter code, e.g. "eu-west-fra2" (at most 31 bytes).
    string datacenter;
    /// keccak256 of the server's hardware serials (canonical form in the README); unique across assets.
    bytes32 serialsHash;
    /// Memory per GPU in MiB (nvidia-smi memory.total), non-zero.
    uint32 vramMiBPerGpu;
    /// Number of identical GPUs in the server, non-zero.
    uint16 gpuCount;
    /// Thermal design power per GPU in watts (nvidia-smi power.limit), non-zero.
    uint16 tdpWattsPerGpu;
}
