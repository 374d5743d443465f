/**
 * ensemble: u_i = EMA of the `tdStd` the agent reports with each TD error (the spread of the TD
 * error across its critic heads); normalised over the buffer as in spread.ts.
 */
import { DivergenceError, QttdmError } from "../../core/errors.js";
import type { PriorityUpdate } from "../stats.js";
import { SpreadEstimator } from "./spread.js";

export class EnsembleEstimator extends SpreadEstimator {
  check(update: PriorityUpdate): void {
    if (!update.tdStd) {
      throw new QttdmError('updatePriorities: the "ensemble" reliability estimator needs stats.tdStd (TD-error spread across critic heads)');
    }
  }

  protected measure(i: number, _td: number, b: number, update: PriorityUpdate): number {
    const v = update.tdStd![b]!;
    if (!(v >= 0 && v < Infinity)) throw new DivergenceError(`updatePriorities: tdStd[${b}] = ${v} for index ${i}; expected a finite value >= 0`);
    return v;
  }
}
