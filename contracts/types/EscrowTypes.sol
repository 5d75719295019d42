// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Lease terms an asset's owner (or approved operator) publishes, as given on entry.
/// @dev The escrow stores them packed (SafeCast) and copies them into each lease at open.
struct LeaseTerms {
    /// Accepted stablecoin (must be on the escrow's admin allowlist).
    address token;
    /// Reservation price per GPU-hour proven available, in token base units.
    uint256 reservationPricePerGpuHour;
    /// Usage price per busy GPU-hour, in token base units.
    uint256 usagePricePerBusyGpuHour;
    /// Minimum lease duration in seconds.
    uint64 minDurationSeconds;
    /// Maximum lease duration in seconds.
    uint64 maxDurationSeconds;
    /// SLA availability target in basis points (10000 = 100 %); below it the lessee earns a credit.
    uint16 slaAvailabilityBps;
    /// Whether the lessee may end the lease before its end time.
    bool earlyEndAllowed;
}
