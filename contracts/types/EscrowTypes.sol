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

/// @notice Why a lease ended. `None` means the lease is still open.
enum EndReason {
    None,
    /// Closed at or after its end time (anyone).
    Expired,
    /// Ended early by the lessee, as the terms allow.
    EndedByLessee,
    /// Terminated by the provider (the NFT owner or its approved operator); the leftover is refunded.
    TerminatedByProvider,
    /// Closed because the deposit could not cover the next hour of full use.
    InsufficientFunds
}

/// @notice Lease terms as the escrow stores them: one immutable snapshot per (asset, version).
/// @dev A lease references the snapshot it was opened with, so later changes never reach it.
struct StoredLeaseTerms {
    // slot 0
    address token;
    uint64 minDurationSeconds;
    uint16 slaAvailabilityBps;
    bool earlyEndAllowed;
    // slot 1
    uint96 reservationPricePerGpuHour;
    uint96 usagePricePerBusyGpuHour;
    uint64 maxDurationSeconds;
}

/// @notice One lease, as stored. Amounts are token base units of the lease's terms token.
/// @dev Per-lease accounting: deposited = charged + refunded + balance + pending + disputed, where
/// balance + pending + disputed is what the escrow still holds for the lease. `deposited` is not
/// stored: it is that sum (`accountingOf`), kept within uint96 by the checks on every deposit, and the
/// tests compare it with the deposits they made. Opening writes slots 0-2 only; closing writes slots
/// that are already non-zero (the refund lands next to the balance it comes from).
struct Lease {
    // slot 0
    /// The lessee: the NFT user while the lease runs, and the recipient of every refund.
    address lessee;
    /// When the lease started (the open transaction's timestamp).
    uint64 startTime;
    /// Version of the asset's terms snapshot the lease was opened with.
    uint24 termsVersion;
    /// Why the lease ended; `None` while it is open.
    EndReason endReason;
    // slot 1
    /// When the lease ends (or ended, for an early end).
    uint64 endTime;
    /// Timestamp of the last meter settled (the baseline at open); 0 when the asset had no reading yet.
    uint64 cursorTimestamp;
    /// Cumulative busy GPU-seconds of the last meter settled.
    uint64 cursorBusyGpuSeconds;
    /// Cumulative available GPU-seconds of the last meter settled.
    uint64 cursorAvailableGpuSeconds;
    // slot 2
    /// The asset (GpuAssetNFT token id).
    uint64 assetId;
    /// Unspent deposit still available to pay charges.
    uint96 balance;
    /// Everything credited back to the lessee (leftover deposit and arbiter splits).
    uint96 refunded;
    // slot 3
    /// Settled charge inside its dispute window, not yet credited to the payee.
    uint96 pending;
    /// Everything finally credited to the payee (released charges and arbiter splits).
    uint96 charged;
    /// End of the dispute window of `pending`.
    uint64 pendingUntil;
    // slot 4
    /// Charge held under an open dispute.
    uint96 disputed;
    /// When an open dispute falls to its default if the arbiter stays silent.
    uint64 disputeDeadline;
}

/// @notice The outcome of pricing one settlement window (see `SettlementMath`).
struct WindowCharge {
    /// Seconds of the meter window that fall inside the lease, i.e. the billed seconds.
    uint64 billedSeconds;
    /// Proven availability over the window, basis points, rounded down.
    uint16 availabilityBps;
    /// Reservation fee for the available GPU-seconds billed, rounded down.
    uint256 reservationFee;
    /// Usage fee for the busy GPU-seconds billed, rounded down.
    uint256 usageFee;
    /// SLA credit subtracted from the fees, rounded up (zero at or above the target).
    uint256 slaCredit;
    /// reservationFee + usageFee - slaCredit.
    uint256 netCharge;
}
