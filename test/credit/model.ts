/**
 * A reference model of a CreditFacility loan, written from the rules in docs/credit.md rather than
 * from the Solidity: interest is computed from the whole history of the outstanding principal (an
 * exact integral, floored once), not from the contract's running checkpoints, so the tests compare
 * two independent computations. Amounts are token base units, times unix seconds, all bigint.
 */
export const BPS = 10_000n;
export const YEAR_SECONDS = 365n * 86_400n;
export const INTEREST_DENOMINATOR = BPS * YEAR_SECONDS;

export interface ModelTerms {
  principal: bigint;
  reserveTarget: bigint;
  interestRateBpsPerYear: bigint;
  periodSeconds: bigint;
  periodCount: bigint;
  amortizationPeriods: bigint;
  graceSeconds: bigint;
}

export interface Split {
  toInterest: bigint;
  toPrincipal: bigint;
  toReserve: bigint;
  toBorrower: bigint;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const pos = (a: bigint) => (a > 0n ? a : 0n);

/** Simple interest with a carried remainder (what `CreditMath.accrue` must compute). */
export function accrue(principal: bigint, rate: bigint, elapsed: bigint, remainder: bigint): [bigint, bigint] {
  const numerator = principal * rate * elapsed + remainder;
  return [numerator / INTEREST_DENOMINATOR, numerator % INTEREST_DENOMINATOR];
}

/** Due dates at or before `time`, capped at the period count. */
export function dueDatesPassed(start: bigint, period: bigint, count: bigint, time: bigint): bigint {
  if (time < start) return 0n;
  return min((time - start) / period, count);
}

/** Principal scheduled by due date `index`: interest-only periods, then equal installments, all at maturity. */
export function principalDueBy(principal: bigint, count: bigint, amortization: bigint, index: bigint): bigint {
  if (index >= count) return principal;
  const interestOnly = count - amortization;
  if (index <= interestOnly) return 0n;
  return (principal * (index - interestOnly)) / amortization;
}

/** Interest first, then principal; returns [toInterest, toPrincipal, rest]. */
export function applyPayment(amount: bigint, interestOwed: bigint, principalOwed: bigint): [bigint, bigint, bigint] {
  const toInterest = min(amount, interestOwed);
  const toPrincipal = min(amount - toInterest, principalOwed);
  return [toInterest, toPrincipal, amount - toInterest - toPrincipal];
}

/** interest → principal → reserve room → borrower. */
export function waterfall(amount: bigint, interestOwed: bigint, principalOwed: bigint, room: bigint): Split {
  const [toInterest, toPrincipal, rest] = applyPayment(amount, interestOwed, principalOwed);
  const toReserve = min(rest, room);
  return { toInterest, toPrincipal, toReserve, toBorrower: rest - toReserve };
}

/** One funded loan, advanced by the same operations as the facility's. */
export class LoanModel {
  /** The outstanding principal from each `time` on (appended at every principal payment). */
  private readonly history: { time: bigint; outstanding: bigint }[];
  interestPaid = 0n;
  principalRepaid = 0n;
  reserve = 0n;
  borrowerClaimable = 0n;
  repaid = false;

  constructor(
    readonly terms: ModelTerms,
    readonly startTime: bigint,
  ) {
    this.history = [{ time: startTime, outstanding: terms.principal }];
  }

  clone(): LoanModel {
    const c = new LoanModel(this.terms, this.startTime);
    c.history.splice(0, c.history.length, ...this.history.map((h) => ({ ...h })));
    Object.assign(c, {
      interestPaid: this.interestPaid,
      principalRepaid: this.principalRepaid,
      reserve: this.reserve,
      borrowerClaimable: this.borrowerClaimable,
      repaid: this.repaid,
    });
    return c;
  }

  dueDate(index: bigint): bigint {
    return this.startTime + index * this.terms.periodSeconds;
  }

  maturity(): bigint {
    return this.dueDate(this.terms.periodCount);
  }

  passed(time: bigint): bigint {
    return dueDatesPassed(this.startTime, this.terms.periodSeconds, this.terms.periodCount, time);
  }

  /** Cumulative interest accrued from funding until `time`: ⌊Σ outstanding × rate × seconds / D⌋. */
  interestAt(time: bigint): bigint {
    let scaled = 0n;
    for (let i = 0; i < this.history.length; i++) {
      const from = this.history[i].time;
      const to = i + 1 < this.history.length ? this.history[i + 1].time : time;
      const end = min(to, time);
      if (end > from) scaled += this.history[i].outstanding * this.terms.interestRateBpsPerYear * (end - from);
    }
    return scaled / INTEREST_DENOMINATOR;
  }

  principalOutstanding(): bigint {
    return this.terms.principal - this.principalRepaid;
  }

  interestOwed(now: bigint): bigint {
    return this.interestAt(now) - this.interestPaid;
  }

  debt(now: bigint): bigint {
    return this.principalOutstanding() + this.interestOwed(now);
  }

  principalOwedBy(index: bigint): bigint {
    const t = this.terms;
    return pos(principalDueBy(t.principal, t.periodCount, t.amortizationPeriods, index) - this.principalRepaid);
  }

  /** Unpaid amounts due at due date `index` (0: nothing). */
  unpaidAt(index: bigint): bigint {
    if (index === 0n) return 0n;
    return pos(this.interestAt(this.dueDate(index)) - this.interestPaid) + this.principalOwedBy(index);
  }

  overdue(now: bigint): bigint {
    return this.unpaidAt(this.passed(now));
  }

  private payPrincipal(now: bigint, amount: bigint) {
    if (amount === 0n) return;
    this.principalRepaid += amount;
    this.history.push({ time: now, outstanding: this.principalOutstanding() });
  }

  /** The reserve pays the interest accrued, then the principal due so far, when anything is overdue. */
  drawReserve(now: bigint): [bigint, bigint] {
    if (this.reserve === 0n || this.overdue(now) === 0n) return [0n, 0n];
    const [toInterest, toPrincipal] = applyPayment(
      this.reserve,
      this.interestOwed(now),
      this.principalOwedBy(this.passed(now)),
    );
    this.reserve -= toInterest + toPrincipal;
    this.interestPaid += toInterest;
    this.payPrincipal(now, toPrincipal);
    return [toInterest, toPrincipal];
  }

  /** What is unpaid of the latest due date whose grace has ended, after the reserve draw (0: not in default). */
  defaulted(now: bigint): bigint {
    if (this.repaid) return 0n;
    const graced = dueDatesPassed(
      this.startTime + this.terms.graceSeconds,
      this.terms.periodSeconds,
      this.terms.periodCount,
      now,
    );
    if (graced === 0n) return 0n;
    const c = this.clone();
    c.drawReserve(now);
    return c.unpaidAt(graced);
  }

  private closeIfRepaid() {
    if (this.principalRepaid === this.terms.principal) {
      this.repaid = true;
      this.borrowerClaimable += this.reserve;
      this.reserve = 0n;
    }
  }

  /** A harvest of `amount` at `now`: the split, then the reserve draw. */
  harvest(amount: bigint, now: bigint): { split: Split; drawn: [bigint, bigint] } {
    const t = this.terms;
    const accelerated = this.defaulted(now) !== 0n;
    const k = this.passed(now);
    const principalOwed = this.principalOwedBy(accelerated || k >= t.periodCount ? t.periodCount : k + 1n);
    const split = waterfall(amount, this.interestOwed(now), principalOwed, pos(t.reserveTarget - this.reserve));
    this.interestPaid += split.toInterest;
    this.payPrincipal(now, split.toPrincipal);
    this.reserve += split.toReserve;
    this.borrowerClaimable += split.toBorrower;
    const drawn = this.drawReserve(now);
    this.closeIfRepaid();
    return { split, drawn };
  }

  /** A repayment of up to `amount` at `now`: [toInterest, toPrincipal]. */
  repay(amount: bigint, now: bigint): [bigint, bigint] {
    const [toInterest, toPrincipal] = applyPayment(amount, this.interestOwed(now), this.principalOutstanding());
    this.interestPaid += toInterest;
    this.payPrincipal(now, toPrincipal);
    this.closeIfRepaid();
    return [toInterest, toPrincipal];
  }

  lenderProceeds(): bigint {
    return this.interestPaid + this.principalRepaid;
  }
}
