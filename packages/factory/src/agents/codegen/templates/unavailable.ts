import { FactoryError } from '../../../errors.js';
import type { Template, TemplateKind } from '../template.js';

/** The kinds whose template is complete today. */
export const AVAILABLE_TEMPLATES: readonly TemplateKind[] = ['jdbc'];

/** A template whose source kind the runtime does not read yet: it refuses with a clear error. */
export function unavailableTemplate(kind: TemplateKind): Template {
  const refuse = (): never => {
    throw new FactoryError(
      'invalid_input',
      `the ${kind} template is not available yet (it comes with the ${kind} sources); supported today: ${AVAILABLE_TEMPLATES.join(', ')}`,
    );
  };
  return { kind, profile: refuse, render: refuse };
}
