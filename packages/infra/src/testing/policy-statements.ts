import type { Template } from 'aws-cdk-lib/assertions';

export interface FoundStatement {
  /** Logical id and type of the resource holding the document. */
  resource: string;
  type: string;
  effect: string;
  actions: string[];
  resources: unknown[];
  principal: unknown;
  condition: unknown;
}

const documentProperties = ['PolicyDocument', 'KeyPolicy', 'ResourcePolicy'];

/**
 * Every statement of every permission policy in a template: IAM policies, managed policies,
 * roles' inline policies, and resource policies (bucket, topic, key, secret). Trust policies
 * (who may assume a role) are not permissions and are left out.
 */
export function policyStatements(template: Template): FoundStatement[] {
  const found: FoundStatement[] = [];
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  for (const [id, resource] of Object.entries(resources)) {
    const properties = resource.Properties ?? {};
    const documents: unknown[] = documentProperties.map((key) => properties[key]).filter(Boolean);
    for (const policy of (properties.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []) {
      documents.push(policy.PolicyDocument);
    }
    for (const document of documents) {
      const statements = (document as { Statement?: unknown }).Statement;
      for (const statement of Array.isArray(statements) ? statements : [statements]) {
        const s = statement as Record<string, unknown>;
        found.push({
          resource: id,
          type: resource.Type,
          effect: String(s.Effect),
          actions: toArray(s.Action ?? s.NotAction).map(String),
          resources: toArray(s.Resource ?? s.NotResource),
          principal: s.Principal,
          condition: s.Condition,
        });
      }
    }
  }
  return found;
}

function toArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** `Resource: "*"` (or a list holding it). */
export function onEveryResource(statement: FoundStatement): boolean {
  return statement.resources.includes('*');
}

/**
 * Actions that AWS offers on no resource narrower than `*`, each allowed on `*` only as said:
 * these are the only `Allow … Resource: "*"` statements an Ensemble template may hold.
 */
export const allowedOnEveryResource: Record<string, (statement: FoundStatement) => boolean> = {
  // Image pulls: the registry token is account-wide by design.
  'ecr:GetAuthorizationToken': () => true,
};

/** The account's root principal, as CDK writes it in default key policies. */
export function isAccountRootPrincipal(principal: unknown): boolean {
  const text = JSON.stringify(principal ?? {});
  return /:iam::/.test(text) && text.includes(':root');
}
