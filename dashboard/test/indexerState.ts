/** The indexer's tables, read through its GraphQL API, in the shapes of chainState.ts. */

async function graphql<T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data as T;
}

/** Every row of a table (Ponder pages hold at most 1,000). */
export async function allRows<T>(url: string, field: string, selection: string): Promise<T[]> {
  const rows: T[] = [];
  let after: string | null = null;
  for (;;) {
    const data: Record<string, { items: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> =
      await graphql(
        url,
        `query($after: String) { ${field}(limit: 1000, after: $after) { items { ${selection} } pageInfo { hasNextPage endCursor } } }`,
        {
          after,
        },
      );
    rows.push(...data[field]!.items);
    if (!data[field]!.pageInfo.hasNextPage) return rows;
    after = data[field]!.pageInfo.endCursor;
  }
}

export interface IndexedState {
  assets: Record<string, unknown>[];
  readings: Record<string, unknown>[];
  leases: Record<string, unknown>[];
  charges: Record<string, unknown>[];
  balances: Record<string, unknown>[];
  vaults: Record<string, unknown>[];
  holders: Record<string, unknown>[];
  batches: Record<string, unknown>[];
  loans: Record<string, unknown>[];
  loanEvents: Record<string, unknown>[];
  programmes: Record<string, unknown>[];
  members: Record<string, unknown>[];
  drEvents: Record<string, unknown>[];
  outcomes: Record<string, unknown>[];
}

export async function readIndexedState(url: string): Promise<IndexedState> {
  const [
    assets,
    readings,
    leases,
    charges,
    balances,
    vaults,
    holders,
    batches,
    loans,
    loanEvents,
    programmes,
    members,
    drEvents,
    outcomes,
  ] = await Promise.all([
    allRows<Record<string, unknown>>(
      url,
      "assets",
      "assetId owner gpuModel datacenter serialsHash vramMiBPerGpu gpuCount tdpWattsPerGpu status user userExpires vault burned",
    ),
    allRows<Record<string, unknown>>(
      url,
      "meterReadings",
      "assetId timestamp busyGpuSeconds availableGpuSeconds energyJ",
    ),
    allRows<Record<string, unknown>>(
      url,
      "leases",
      "leaseId assetId lessee token termsVersion startTime endTime deposited billed charged refunded disputed settlements endReason closed",
    ),
    allRows<Record<string, unknown>>(url, "leaseCharges", "leaseId payee billedUntil total charged"),
    allRows<Record<string, unknown>>(url, "escrowBalances", "account token withdrawable"),
    allRows<Record<string, unknown>>(
      url,
      "vaults",
      "address assetId revenueToken manager totalShares totalHarvested totalClaimed revenuePerShareScaled",
    ),
    allRows<Record<string, unknown>>(url, "vaultHolders", "vault holder shares claimed claimable"),
    allRows<Record<string, unknown>>(url, "oracleBatchs", "batchIndex readingCount"),
    allRows<Record<string, unknown>>(
      url,
      "loans",
      "loanId assetId borrower custody token principal reserveTarget interestRateBpsPerYear status lender startTime " +
        "harvested harvests recovered interestPaid principalRepaid toInterest toPrincipal toReserve toBorrower " +
        "repaidInterest repaidPrincipal reserveDrawn reserveBalance reserveReleased borrowerClaimable borrowerClaimed lenderClaimed",
    ),
    allRows<Record<string, unknown>>(url, "loanEvents", "loanId kind account amount toInterest toPrincipal"),
    allRows<Record<string, unknown>>(url, "drProgrammes", "programmeId sponsor token deposited withdrawn eventCount"),
    allRows<Record<string, unknown>>(url, "drMembers", "programmeId assetId firstEvent endEvent lesseeShareBps"),
    allRows<Record<string, unknown>>(
      url,
      "drEvents",
      "programmeId eventIndex noticeTime startTime endTime ratePerKWh committedReductionJ memberCount provenCount status reserved",
    ),
    allRows<Record<string, unknown>>(
      url,
      "drOutcomes",
      "programmeId eventIndex assetId status credit ownerPaid lesseePaid participant toOwner ownerPaidTo toLessee",
    ),
  ]);
  return {
    assets,
    readings,
    leases,
    charges,
    balances,
    vaults,
    holders,
    batches,
    loans,
    loanEvents,
    programmes,
    members,
    drEvents,
    outcomes,
  };
}
