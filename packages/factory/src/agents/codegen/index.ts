export {
  generate,
  writePackage,
  type ConnectorPackage,
  type GenerateOptions,
  type WritePackageOptions,
} from './generate.js';
export { isPackagePath } from './write-package.js';
export { vendorRuntime, type RuntimeTarballs, type VendoredPackage, type VendorOptions } from './vendor-runtime.js';
export {
  TEMPLATE_KINDS,
  templateKindOf,
  type CodegenContext,
  type SourceProfile,
  type Template,
  type TemplateKind,
  type TemplateOutput,
} from './template.js';
export { TEMPLATES, AVAILABLE_TEMPLATES } from './templates/index.js';
export { workloadFor, type Workload } from './common/schedule.js';
export { validateKubernetesObject } from './common/kubernetes-validate.js';
