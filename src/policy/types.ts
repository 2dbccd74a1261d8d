/**
 * Kyverno ClusterPolicy / Policy shapes (kyverno.io/v1). Only the fields the evaluator reads are typed;
 * everything else passes through untouched. Policies and resources are untrusted YAML: every field is
 * checked before use.
 */
export type Obj = Record<string, unknown>;

export interface ResourceDescription {
  kinds?: string[];
  name?: string;
  names?: string[];
  namespaces?: string[];
  annotations?: Record<string, string>;
  selector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  operations?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface UserInfoFilter {
  roles?: string[];
  clusterRoles?: string[];
  subjects?: { kind: string; name: string; namespace?: string }[];
}

export interface ResourceFilter extends UserInfoFilter {
  resources?: ResourceDescription;
}

export interface MatchResources extends ResourceFilter {
  any?: ResourceFilter[];
  all?: ResourceFilter[];
}

export interface ContextEntry {
  name: string;
  variable?: { value?: unknown; jmesPath?: string; default?: unknown };
  configMap?: unknown;
  apiCall?: unknown;
  imageRegistry?: unknown;
  globalReference?: unknown;
}

export interface ForEachValidation {
  list: string;
  elementScope?: boolean;
  context?: ContextEntry[];
  preconditions?: unknown;
  pattern?: unknown;
  anyPattern?: unknown[];
  deny?: { conditions?: unknown };
  foreach?: ForEachValidation[];
}

export interface Validation {
  message?: string;
  failureAction?: 'Audit' | 'Enforce';
  pattern?: unknown;
  anyPattern?: unknown[];
  deny?: { conditions?: unknown };
  foreach?: ForEachValidation[];
  podSecurity?: unknown;
  cel?: unknown;
  manifests?: unknown;
}

export interface Attestor {
  count?: number;
  entries?: AttestorEntry[];
}

export interface AttestorEntry {
  keys?: { publicKeys?: string; kms?: string; secret?: unknown; rekor?: unknown; ctlog?: unknown; signatureAlgorithm?: string };
  certificates?: { cert?: string; certChain?: string; rekor?: unknown; ctlog?: unknown };
  keyless?: { issuer?: string; issuerRegExp?: string; subject?: string; subjectRegExp?: string; roots?: string; rekor?: unknown; ctlog?: unknown; additionalExtensions?: Record<string, string> };
  attestor?: unknown;
  repository?: string;
}

export interface AttestationCheck {
  type?: string;
  predicateType?: string;
  name?: string;
  attestors?: Attestor[];
  conditions?: unknown[];
}

export interface ImageVerification {
  type?: string;
  imageReferences?: string[];
  skipImageReferences?: string[];
  image?: string;
  key?: string;
  attestors?: Attestor[];
  attestations?: AttestationCheck[];
  mutateDigest?: boolean;
  verifyDigest?: boolean;
  required?: boolean;
  useCache?: boolean;
  failureAction?: 'Audit' | 'Enforce';
  repository?: string;
}

export interface Rule {
  name: string;
  match?: MatchResources;
  exclude?: MatchResources;
  context?: ContextEntry[];
  preconditions?: unknown;
  /** Kubernetes matchConditions ({name, expression}) for validate.cel rules; all must be true. */
  celPreconditions?: { name?: string; expression?: string }[];
  validate?: Validation;
  verifyImages?: ImageVerification[];
  mutate?: unknown;
  generate?: unknown;
  skipBackgroundRequests?: boolean;
}

export interface Policy {
  apiVersion: string;
  kind: 'ClusterPolicy' | 'Policy';
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec: {
    rules: Rule[];
    validationFailureAction?: string;
    background?: boolean;
    failurePolicy?: string;
    webhookTimeoutSeconds?: number;
    [k: string]: unknown;
  };
}

export interface Resource {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export type RuleStatus = 'pass' | 'fail' | 'warn' | 'error' | 'skip';
export type RuleType = 'Validation' | 'ImageVerify' | 'Mutation' | 'Generation';

export interface RuleResponse {
  name: string;
  type: RuleType;
  status: RuleStatus;
  message: string;
  /** Enforce or Audit for this rule (per-rule failureAction, else spec.validationFailureAction, default Audit). */
  failureAction: 'Audit' | 'Enforce';
}

export interface PolicyResponse {
  policy: string;
  policyNamespace?: string;
  resource: { apiVersion: string; kind: string; namespace: string; name: string };
  rules: RuleResponse[];
  /** For mutate responses: the resource after this policy's mutations. */
  patchedResource?: Resource;
  /** For generate responses: the resource each rule would create, by rule name. */
  generatedResources?: Record<string, Resource>;
}

export interface UserInfo {
  username?: string;
  groups?: string[];
  uid?: string;
}

export interface RequestInfo {
  operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo?: UserInfo;
  roles?: string[];
  clusterRoles?: string[];
  /** Labels of the resource's namespace, for namespaceSelector (from the values file offline). */
  namespaceLabels?: Record<string, string>;
}

/** Kyverno PolicyException (kyverno.io/v2): rules it names are skipped for the resources it matches. */
export interface PolicyException {
  apiVersion: string;
  kind: 'PolicyException';
  metadata: { name: string; namespace?: string };
  spec: {
    exceptions: { policyName: string; ruleNames: string[] }[];
    match: MatchResources;
    conditions?: unknown;
  };
}
