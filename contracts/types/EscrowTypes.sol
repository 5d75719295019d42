// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Lease terms an asset's owner (or approved operator) publishes, as given on entry.
/// @dev The escrow stores them packed (SafeCast) as an immutable version; a lease keeps its version.
struct LeaseTerms {
    /// Accepted stablecoin (must be on the escrow's admin allowlist).
    address token;
    /// Reservation price per GPU-hour proven available, in token base units.
    uint256 reservationPricePerGpuHour;
    /// Usage price per busy GPU-hour, in token base units.
    uint256 usagePricePerBusyGpuHour;
    /// Energy price per kWh metered (1 kWh = 3.6e6 J), in token base units; 0 bills no energy.
    uint256 energyPricePerKWh;
    /// Minimum lease duration in seconds.
    uint64 minDurationSeconds;
    /// Maximum lease duration in seconds.
    uint64 maxDurationSeconds;
    /// SLA availability target in basis points (10000 = 100 %); below it the lessee earns a credit
    /// on the reservation and usage fees (never on the energy fee).
    uint16 slaAvailabilityBps;
    /// Whether the lessee may end the lease before its end time.
    bool earlyEndAllowed;
}

/// @notice What a curtailable terms version adds: the lessee accepts the events of one demand-response
/// programme in exchange for a lower reservation price, within caps per lease. Stored as given, in one
/// slot, with the version.
/// @dev During each counted event the asset's reservation is not billed
/// (`IDemandResponseProgramme.curtailedGpuSeconds`).
struct CurtailmentTerms {
    /// The demand-response programme contract (it must hold the escrow's `PROGRAMME_ROLE` when the terms
    /// are published; the version keeps it even if the role is revoked later).
    address programme;
    /// The programme, in that contract, whose events curtail the asset.
    uint32 programmeId;
    /// Discount on the reservation price for the whole lease, basis points (at most 10000).
    uint16 reservationDiscountBps;
    /// The most events that count in one lease (1 to `MAX_EVENTS_PER_LEASE`).
    uint8 maxEventsPerLease;
    /// The most event time that counts in one lease, seconds (each counted event's whole duration; > 0).
    uint32 maxEventSecondsPerLease;
}

/// @notice Why a lease ended. `None` while it runs (and for an expired lease not yet closed).
enum EndReason {
    None,
    /// Closed at or after its end time (anyone).
    Expired,
    /// Ended early by the lessee, as the terms allow.
    EndedByLessee,
    /// Terminated by the provider (the NFT owner or its approved operator); the leftover is refunded.
    TerminatedByProvider,
    /// Ended because its deposits could not cover full use up to an hour from then (see `closeUnderfunded`).
    InsufficientFunds
}

/// @notice Lease terms as the escrow stores them: one immutable snapshot per (asset, version), in two
/// slots (durations fit 32 bits: 136 years; the energy price 64 bits: 1.8e13 USDC per kWh). A
/// curtailable version keeps its `StoredCurtailmentTerms` in a third slot, read only when `curtailable`.
struct StoredLeaseTerms {
    // slot 0
    address token;
    uint16 slaAvailabilityBps;
    bool earlyEndAllowed;
    uint64 energyPricePerKWh;
    bool curtailable;
    // slot 1
    uint96 reservationPricePerGpuHour;
    uint96 usagePricePerBusyGpuHour;
    uint32 minDurationSeconds;
    uint32 maxDurationSeconds;
}

/// @notice One lease, as stored. Amounts are token base units of the lease's terms token.
/// @dev Per-lease accounting (`accountingOf`): deposited = charged + refunded + balance + disputed,
/// where balance + disputed is what the escrow still holds for the lease and every deposit is kept
/// within uint96. Only `deposited`, `balance`, `billed`, `disputed` and `disputeRefunded` are stored:
/// charged = billed − disputed − disputeRefunded (what settlements and arbiters credited the payee),
/// refunded = deposited − billed − balance + disputeRefunded (the leftover and the arbiters' refunds).
/// `billed` is the lease's bill so far, a non-decreasing function of the meters
/// (`SettlementMath.leaseBill`). Times are uint40 in storage (enough until the year 36812).
/// Opening writes slots 0 to 2; a dispute slot 3.
struct Lease {
    // slot 0
    /// The lessee: the NFT user while the lease runs, and the recipient of every refund.
    address lessee;
    /// When the lease started (the open transaction's timestamp).
    uint40 startTime;
    /// When the lease ends (or ended, for an early end: the end transaction's timestamp).
    uint40 endTime;
    /// Why the lease ended (set by an early end, or by `close` at expiry); `None` before.
    EndReason endReason;
    /// Whether the final settlement ran and the leftover was credited to the lessee.
    bool closed;
    // slot 1
    /// The asset (GpuAssetNFT token id; the oracle meters ids below 2^32).
    uint32 assetId;
    /// Version of the asset's terms snapshot the lease was opened with.
    uint24 termsVersion;
    /// Unspent deposit still available to pay charges.
    uint96 balance;
    /// The bill so far: every amount taken from the balance by settlements and disputes.
    uint96 billed;
    /// Whether the meter at `startTime` has been proven and stored (slot 2).
    bool startMetered;
    // slot 2 (written at open with `deposited`, so that storing the start meter later is an update)
    /// The asset's cumulative busy GPU-seconds at `startTime` (48 bits, as in a packed reading).
    uint48 startBusyGpuSeconds;
    /// The asset's cumulative available GPU-seconds at `startTime`.
    uint48 startAvailableGpuSeconds;
    /// The asset's cumulative joules at `startTime`.
    uint64 startEnergyJ;
    /// Everything deposited (the opening deposit and every top-up).
    uint96 deposited;
    // slot 3
    /// Amount held under an open dispute.
    uint96 disputed;
    /// Everything arbiters (or a burned asset's missing payee) returned to the lessee from disputes.
    uint96 disputeRefunded;
    /// When an open dispute falls to its default if the arbiter stays silent.
    uint40 disputeDeadline;
}

/// @notice A lease's bill from its start up to a meter time (see `SettlementMath.leaseBill`).
struct LeaseBill {
    /// Seconds from the lease start to the meter time.
    uint64 meteredSeconds;
    /// Proven availability over the lease's whole time so far counted, basis points, rounded down.
    uint16 availabilityBps;
    /// Reservation fee for the available GPU-seconds, rounded down.
    uint256 reservationFee;
    /// Usage fee for the busy GPU-seconds, rounded down.
    uint256 usageFee;
    /// Energy fee for the joules metered, rounded down.
    uint256 energyFee;
    /// SLA credit on reservation + usage fees, rounded up (zero at or above the target).
    uint256 slaCredit;
    /// reservationFee + usageFee - slaCredit + energyFee.
    uint256 total;
}
