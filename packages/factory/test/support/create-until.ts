import type { DeployContext } from '../../src/agents/deploy/deploy.js';
import type { StepReport } from '../../src/agents/deploy/build-package.js';
import { FactoryError } from '../../src/errors.js';
import { createConnector, type CreateOptions } from '../../src/orchestrator/create-connector.js';

/**
 * Runs `create` and stops it when code generation starts. Gives the schema step's report (if it got that
 * far) and the FactoryError `create` stopped with before code generation (if any); other errors are thrown.
 */
export async function createUntilGenerate(
  options: Omit<CreateOptions, 'progress'>,
  context: DeployContext,
): Promise<{ report?: StepReport; error?: FactoryError }> {
  let report: StepReport | undefined;
  const stop = new Error('stopped before code generation');
  try {
    await createConnector(
      {
        ...options,
        progress: (event) => {
          if (event.step === 'schema' && event.report !== undefined) report = event.report;
          if (event.step === 'generate') throw stop;
        },
      },
      context,
    );
  } catch (error) {
    if (error instanceof FactoryError) return { ...(report ? { report } : {}), error };
    if (error !== stop) throw error;
  }
  return report ? { report } : {};
}
