// A rolling baseline for one series (a count sampled once per collector interval): the EWMA of
// the value and the EWMA of its absolute deviation from that mean. Absolute deviation rather
// than variance because one huge outlier squared would inflate the spread for a long time;
// for normal noise the mean absolute deviation is about 0.8 σ.

export interface BaselineOptions {
  /** Weight of each new observation, 0 < alpha ≤ 1. Smaller adapts slower. */
  alpha: number;
  /** Observations before the baseline may judge anything: a young mean is not a baseline. */
  warmup: number;
}

/** When a value counts as a surge: both conditions hold. */
export interface SurgeRule {
  /** value − mean must exceed k deviations (relative to the series' own noise). */
  k: number;
  /** ...and be at least this many units, so that quiet, flat series don't flap on +1. */
  minRise: number;
}

export class EwmaBaseline {
  private meanValue = 0;
  private deviationValue = 0;
  private observations = 0;
  private frozenFlag = false;

  constructor(private readonly options: BaselineOptions) {
    if (!(options.alpha > 0 && options.alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${options.alpha}`);
    if (!(options.warmup >= 1)) throw new RangeError(`warmup must be ≥ 1, got ${options.warmup}`);
  }

  get mean(): number {
    return this.meanValue;
  }

  get deviation(): number {
    return this.deviationValue;
  }

  get count(): number {
    return this.observations;
  }

  get warm(): boolean {
    return this.observations >= this.options.warmup;
  }

  get frozen(): boolean {
    return this.frozenFlag;
  }

  /** Stop learning: while an alert is active the attack must not become the new normal. */
  freeze(): void {
    this.frozenFlag = true;
  }

  unfreeze(): void {
    this.frozenFlag = false;
  }

  /**
   * How many deviations `value` lies above the mean, against the past only. A flat series
   * (deviation 0) scores Infinity for any rise, which is why a surge also needs minRise.
   */
  score(value: number): number {
    const rise = value - this.meanValue;
    if (this.deviationValue > 0) return rise / this.deviationValue;
    return rise === 0 ? 0 : rise > 0 ? Infinity : -Infinity;
  }

  /** The value at and above which `rule` calls a surge (Infinity during warm-up). */
  threshold(rule: SurgeRule): number {
    if (!this.warm) return Infinity;
    return this.meanValue + Math.max(rule.k * this.deviationValue, rule.minRise);
  }

  /** Score `value` against the past, then fold it in unless frozen. Returns the score. */
  observe(value: number): number {
    const score = this.score(value);
    if (this.frozenFlag) return score;
    this.observations++;
    // During warm-up the weight is 1/n, so the first values give their plain average rather
    // than an estimate dragged toward the first sample (the usual EWMA start-up bias).
    const alpha = Math.max(this.options.alpha, 1 / this.observations);
    const deviation = Math.abs(value - this.meanValue);
    if (this.observations === 1) {
      this.meanValue = value;
      this.deviationValue = 0;
    } else {
      this.deviationValue += alpha * (deviation - this.deviationValue);
      this.meanValue += alpha * (value - this.meanValue);
    }
    return score;
  }
}
