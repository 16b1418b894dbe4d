import type { Operation } from '../loadgen/closedLoop';
import type { LoadContext } from '../loadgen/LoadContext';
import type { Target } from '../loadgen/protocol';

/** Builds the call a workload repeats on one target, once per load-generator process. */
export type OperationFactory = (context: LoadContext) => Operation;

/** A named workload and how each target that supports it runs it. */
export interface Workload {
  readonly name: string;
  readonly description: string;
  readonly targets: Partial<Record<Target, OperationFactory>>;
  /** Writes: they consume seeded sessions or booking slots (only CompleteSession has raw-pg variants: the outbox A/B). */
  readonly writes?: boolean;
  /**
   * In-flight counts some targets run at in a plain run (not --smoke, which runs every target, nor --quick, which names its own): the
   * outbox A/B at 16 only, where its target is judged, so the pair does not use up the seeded sessions.
   */
  readonly onlyAt?: Partial<Record<Target, readonly number[]>>;
  /** False: runs only when named with --only. */
  readonly defaultRun?: boolean;
  /** Runs only when the service build has this file (an API that lands later). */
  readonly requiresFile?: string;
}

/** Picks one of several operations by weight on every call (the mixed load). */
export function weighted(parts: readonly { readonly weight: number; readonly factory: OperationFactory }[]): OperationFactory {
  return (context) => {
    const operations = parts.map((part) => ({ weight: part.weight, run: part.factory(context) }));
    const total = operations.reduce((sum, op) => sum + op.weight, 0);
    return () => {
      let pick = context.random(total);
      for (const op of operations) {
        if (pick < op.weight) return op.run();
        pick -= op.weight;
      }
      return operations[0]!.run();
    };
  };
}
